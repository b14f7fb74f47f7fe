import pytest

from datax_migrate.findings import Finding, Severity


def test_round_trips_through_its_json_form() -> None:
    finding = Finding("dbutils-secrets", Severity.REVIEW, "use Secrets Manager", "nb.py", cell=2, line=3)
    data = finding.to_dict()
    assert data == {
        "code": "dbutils-secrets",
        "severity": "review",
        "message": "use Secrets Manager",
        "subject": "nb.py",
        "cell": 2,
        "line": 3,
    }
    assert Finding.from_dict(data) == finding


@pytest.mark.parametrize("code", ["Deletion-Vectors", "deletion_vectors", "-x", "x-", "a--b", ""])
def test_refuses_codes_that_are_not_kebab_case(code: str) -> None:
    with pytest.raises(ValueError, match="kebab-case"):
        Finding(code, Severity.INFO, "m")
