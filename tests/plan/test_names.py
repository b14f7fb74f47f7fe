"""Databricks table names map onto valid, unique, stable S3 Tables and Glue names."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from datax_migrate.errors import ConfigError
from datax_migrate.plan.names import (
    GLUE,
    MAPPING_VERSION,
    REST,
    S3_TABLES,
    SQL,
    NameMapping,
    NameRules,
    TargetName,
    check_identifier,
    check_name,
    map_name,
    parse_name,
    plan_names,
    resolve_target,
    rules_for_catalog,
)

RULES = [S3_TABLES, GLUE]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def assert_valid(target: TargetName, rules: NameRules) -> None:
    check_name(target.namespace, rules, "namespace")
    check_name(target.table, rules, "table")


# parsing


@pytest.mark.parametrize(
    ("source", "parts"),
    [
        ("main.sales.orders", ("main", "sales", "orders")),
        ("sales.orders", ("sales", "orders")),
        ("`a.b`.c.d", ("a.b", "c", "d")),
        ("main.`my.schema`.`my table`", ("main", "my.schema", "my table")),
        ("`we``ird`.t", ("we`ird", "t")),
        (" main . sales . orders ", ("main", "sales", "orders")),
        ("`x` . `y`", ("x", "y")),
    ],
)
def test_parse_name(source: str, parts: tuple[str, ...]) -> None:
    assert parse_name(source) == parts


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("orders", "has 1 part"),
        ("a.b.c.d", "has 4 part"),
        ("a..b", "empty part"),
        (".a.b", "empty part"),
        ("a.b.", "empty part"),
        ("a. .b", "empty part"),
        ("``.b", "empty part"),
        ("", "empty part"),
        ("`a.b", "unclosed backtick"),
        ("`a`x.b", "followed by '.'"),
        ("a`b`.c", "quote a whole part"),
    ],
)
def test_malformed_names_are_refused_naming_the_input(source: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        map_name(source, S3_TABLES)
    assert repr(source) in str(raised.value)


# mapping


@pytest.mark.parametrize("rules", RULES, ids=lambda rules: rules.label)
def test_valid_names_map_to_themselves_without_a_hash(rules: NameRules) -> None:
    target = map_name("main.sales.orders", rules)
    assert (target.namespace, target.table, target.source) == ("sales", "orders", "main.sales.orders")
    assert target.identifier == "sales.orders"
    assert map_name("hive_metastore.raw_2024.events_v2", rules).identifier == "raw_2024.events_v2"
    assert map_name("default.t", rules).identifier == "default.t"


def test_lower_casing_alone_needs_no_hash() -> None:
    assert map_name("Main.Sales.ORDERS", S3_TABLES).identifier == "sales.orders"
    assert map_name("`Sales`.`Orders`", GLUE).identifier == "sales.orders"


def test_hyphens_spaces_and_dots_become_underscores_with_a_hash_of_the_lowered_part() -> None:
    target = map_name("main.`Sales-EU`.`order items.v2`", S3_TABLES)
    assert target.namespace == f"sales_eu_{digest('sales-eu')}"
    assert target.table == f"order_items_v2_{digest('order items.v2')}"
    assert map_name("main.`sales-eu`.t", S3_TABLES).namespace == target.namespace


def test_runs_of_disallowed_characters_collapse_and_edges_are_stripped() -> None:
    assert map_name("s.` -- a  b -- `", S3_TABLES).table == f"a_b_{digest(' -- a  b -- ')}"
    assert map_name("s._private_", S3_TABLES).table == f"private_{digest('_private_')}"


def test_accents_are_stripped() -> None:
    target = map_name("main.Café.Crème_brûlée", S3_TABLES)
    assert target.namespace == f"cafe_{digest('café')}"
    assert target.table == f"creme_brulee_{digest('crème_brûlée')}"


def test_a_name_with_nothing_usable_falls_back_to_t_or_ns() -> None:
    target = map_name("main.`日本`.`___`", S3_TABLES)
    assert target.namespace == f"ns_{digest('日本')}"
    assert target.table == f"t_{digest('___')}"


def test_reserved_aws_namespace_prefix_gets_ns() -> None:
    target = map_name("main.aws_raw.awsome", S3_TABLES)
    assert target.namespace == f"ns_aws_raw_{digest('aws_raw')}"
    assert target.table == "awsome"
    assert map_name("main.AWS.t", S3_TABLES).namespace == f"ns_aws_{digest('aws')}"
    assert map_name("main.aws_raw.t", GLUE).namespace == "aws_raw"
    with pytest.raises(ConfigError, match="reserved prefix 'aws'"):
        check_name("aws_raw", S3_TABLES, "namespace")
    check_name("aws_raw", S3_TABLES, "table")


@pytest.mark.parametrize("rules", RULES, ids=lambda rules: rules.label)
def test_long_names_are_truncated_with_a_hash_and_stay_valid(rules: NameRules) -> None:
    long_valid = "a" * 300
    target = map_name(f"main.{long_valid}.{long_valid}", rules)
    assert target.table == "a" * 246 + "_" + digest(long_valid)
    assert len(target.table) == len(target.namespace) == 255
    assert_valid(target, rules)
    exactly_max = "b" * 255
    assert map_name(f"s.{exactly_max}", rules).table == exactly_max
    assert map_name(f"s.{'b' * 256}", rules).table != map_name(f"s.{'b' * 257}", rules).table


def test_truncation_does_not_leave_a_double_underscore() -> None:
    part = "a" * 245 + "-" + "b" * 40
    table = map_name(f"s.`{part}`", S3_TABLES).table
    assert table == "a" * 245 + "_" + digest(part)
    check_name(table, S3_TABLES, "table")


def test_mapping_is_deterministic_and_idempotent() -> None:
    source = "main.`Ünïcödé schema`.`My-Table (v2)`"
    first = map_name(source, S3_TABLES)
    assert map_name(source, S3_TABLES) == first
    assert map_name(first.identifier, S3_TABLES).identifier == first.identifier


def test_namespace_from_catalog_schema() -> None:
    assert map_name("main.sales.orders", S3_TABLES, "catalog_schema").identifier == "main_sales.orders"
    target = map_name("Prod-EU.sales.orders", S3_TABLES, "catalog_schema")
    assert target.namespace == f"prod_eu_sales_{digest('prod-eu_sales')}"
    with pytest.raises(ConfigError, match="'sales.orders' has no catalog.*hive_metastore.schema.table"):
        map_name("sales.orders", S3_TABLES, "catalog_schema")


def test_unknown_namespace_from_is_refused() -> None:
    with pytest.raises(ConfigError, match="namespace_from must be one of schema, catalog_schema, not 'catalog'"):
        map_name("a.b.c", S3_TABLES, "catalog")


# validation


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "1 to 255 characters long, not 0"),
        ("a" * 256, "not 256"),
        ("Orders", "only a-z"),
        ("a-b", "only a-z"),
        ("_a", "begin and end"),
        ("a_", "begin and end"),
        ("café", "only a-z"),
    ],
)
def test_check_name_refuses_and_says_why(name: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"table name .* is not valid in Amazon S3 Tables: it .*{message}"):
        check_name(name, S3_TABLES, "table")


def test_check_name_accepts_valid_names_and_knows_its_kinds() -> None:
    for name in ["a", "0", "a_b", "9lives", "x" * 255]:
        check_name(name, S3_TABLES, "table")
        check_name(name, GLUE, "namespace")
    with pytest.raises(ValueError, match="kind"):
        check_name("a", S3_TABLES, "database")


@pytest.mark.parametrize(
    ("identifier", "rules", "message"),
    [
        ("a.b.c.d", SQL, "namespace 'a.b.c' has 3 levels, but the SQL catalog allows single-level namespaces"),
        ("a.b.t", S3_TABLES, "namespace 'a.b' has 2 levels, but Amazon S3 Tables allows single-level namespaces"),
        ("a.b.t", GLUE, "namespace 'a.b' has 2 levels, but AWS Glue Data Catalog allows single-level"),
        ("a..t", REST, "no empty namespace level"),
        ("ns.a\tb", SQL, r"control or invisible characters \(U\+0009 at position 1\)"),
        ("ns.a\u200bb", REST, r"control or invisible characters \(U\+200B"),
        ("n\ns.t", SQL, r"namespace name .* control or invisible characters \(U\+000A"),
        ("ns.a#b", SQL, "must not hold '#'"),
        ("ns.a?b", REST, "must not hold '\\?'"),
        ("ns.a%41", SQL, "must not hold '%'"),
        ("ns.a/b", SQL, "must not hold '/'"),
        ("ns.a\\b", REST, "must not hold"),
        ("ns.e\u0301", SQL, "Unicode NFC form"),
        ("ns." + "é" * 128, SQL, r"1 to 255 bytes long \(UTF-8\), not 256"),
        ("ns.a-b", GLUE, "only a-z"),
    ],
)
def test_check_identifier_names_the_rule(identifier: str, rules: NameRules, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_identifier(identifier, rules)


def test_lenient_rules_take_other_names() -> None:
    for identifier in ["Finance.Sales", "n s.é", "ns.a-b", "ns." + "é" * 127, "ns.日本"]:
        check_identifier(identifier, SQL)
        check_identifier(identifier, REST)
    check_identifier("a.b.c.d", REST)
    check_identifier("ns." + "x" * 1000, REST)


def _random_part(rng: random.Random) -> str:
    alphabet = "abcXYZ019_-. `'éÜß日本ﬁℌ\u0301😀\t"
    length = rng.choice([1, 2, 5, 20, 250, 254, 255, 256, 300])
    return "".join(rng.choice(alphabet) for _ in range(length))


def _quote(part: str) -> str:
    return "`" + part.replace("`", "``") + "`"


def test_every_mapped_name_is_valid_for_random_input() -> None:
    rng = random.Random(7)
    for _ in range(400):
        parts = [_random_part(rng) for _ in range(rng.choice([2, 3]))]
        source = ".".join(_quote(part) for part in parts)
        assert parse_name(source) == tuple(parts)
        modes = ["schema", "catalog_schema"] if len(parts) == 3 else ["schema"]
        for rules in RULES:
            for mode in modes:
                target = map_name(source, rules, mode)
                assert_valid(target, rules)
                assert map_name(source, rules, mode) == target
                assert map_name(target.identifier, rules).identifier == target.identifier


# planning


def test_plan_names_maps_deduplicates_and_sorts() -> None:
    mapping = plan_names(["main.sales.orders", "main.hr.people", "main.sales.orders", "Main.Sales.Orders"], S3_TABLES)
    assert [entry.source for entry in mapping.entries] == ["Main.Sales.Orders", "main.hr.people"]
    assert mapping.target_for("main.sales.orders").identifier == "sales.orders"
    assert mapping.target_for("`main`.`SALES`.orders").source == "Main.Sales.Orders"
    with pytest.raises(ConfigError, match="'main.hr.nobody' is not in the name mapping"):
        mapping.target_for("main.hr.nobody")


def test_plan_names_does_not_depend_on_input_order() -> None:
    sources = ["dev.a.`x-y`", "prod.b.c", "Dev.A.`X-Y`", "hive_metastore.d.e"]
    assert plan_names(sources, GLUE) == plan_names(reversed(sources), GLUE)


def test_changed_names_do_not_collide_with_their_plain_lookalikes() -> None:
    mapping = plan_names(["main.Sales.`a-b`", "main.sales.a_b"], S3_TABLES)
    assert sorted(entry.table for entry in mapping.entries) == ["a_b", f"a_b_{digest('a-b')}"]


def test_collisions_are_all_reported_before_anything_is_written() -> None:
    sources = ["dev.sales.orders", "prod.sales.orders", "sales.orders", "dev.hr.people", "prod.hr.people", "x.y.z"]
    with pytest.raises(ConfigError) as raised:
        plan_names(sources, S3_TABLES)
    message = str(raised.value)
    assert message.startswith("2 target name(s) would hold more than one table, so nothing was written")
    assert "hr.people <- dev.hr.people, prod.hr.people" in message
    assert "sales.orders <- dev.sales.orders, prod.sales.orders, sales.orders" in message
    assert "x.y.z" not in message
    assert "namespace_from='catalog_schema'" in message


def test_catalog_schema_resolves_catalog_collisions_but_catches_joins_that_clash() -> None:
    mapping = plan_names(["dev.sales.orders", "prod.sales.orders"], S3_TABLES, "catalog_schema")
    assert [entry.identifier for entry in mapping.entries] == ["dev_sales.orders", "prod_sales.orders"]
    with pytest.raises(ConfigError, match=r"a_b_c\.t <- a\.b_c\.t, a_b\.c\.t"):
        plan_names(["a_b.c.t", "a.b_c.t"], S3_TABLES, "catalog_schema")


def test_plan_names_refuses_a_malformed_source() -> None:
    with pytest.raises(ConfigError, match="'a.b.c.d'"):
        plan_names(["main.s.t", "a.b.c.d"], S3_TABLES)


# JSON


def test_json_round_trip_is_stable_and_sorted() -> None:
    mapping = plan_names(["main.zeta.t", "main.`Café`.`a-b`", "main.alpha.t2"], S3_TABLES)
    text = mapping.to_json()
    document = json.loads(text)
    assert document["version"] == MAPPING_VERSION == "datax-name-mapping/1"
    assert [row["source"] for row in document["entries"]] == sorted(row["source"] for row in document["entries"])
    assert "Café" in text
    restored = NameMapping.from_json(text)
    assert restored == mapping
    assert restored.to_json() == text
    assert restored.target_for("MAIN.`café`.`A-B`") == mapping.entries[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "not a name mapping"),
        ('{"version": "datax-name-mapping/2", "entries": []}', "not a name mapping"),
        ('{"version": "datax-name-mapping/1"}', "'entries' must be a list"),
        ('{"version": "datax-name-mapping/1", "entries": [{"source": "a.b"}]}', "needs string source"),
        (
            '{"version": "datax-name-mapping/1", "entries": ['
            '{"source": "a.b", "namespace": "a", "table": "b"}, {"source": "A.B", "namespace": "x", "table": "y"}]}',
            "lists a table more than once: A.B, a.b",
        ),
        (
            '{"version": "datax-name-mapping/1", "entries": ['
            '{"source": "a.b", "namespace": "n", "table": "t"}, {"source": "c.d", "namespace": "n", "table": "t"}]}',
            r"n\.t <- a\.b, c\.d",
        ),
    ],
)
def test_from_json_refuses_what_it_cannot_trust(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        NameMapping.from_json(text)


@pytest.mark.parametrize(
    ("properties", "rules"),
    [
        ({"type": "s3tables", "warehouse": "arn"}, S3_TABLES),
        ({"type": "glue"}, GLUE),
        ({"type": "glue", "glue.id": "111122223333:s3tablescatalog/lake"}, S3_TABLES),
        ({"type": "rest", "rest.signing-name": "s3tables"}, S3_TABLES),
        ({"type": "sql"}, SQL),
        ({}, SQL),
        ({"type": "hive"}, SQL),
        ({"type": "rest"}, REST),
    ],
)
def test_rules_follow_the_catalog_type(properties: dict[str, str], rules: NameRules) -> None:
    assert rules_for_catalog(properties) == rules


def test_resolve_target_checks_names_or_looks_them_up() -> None:
    assert resolve_target("sales.orders", S3_TABLES).identifier == "sales.orders"
    assert resolve_target("Any.Name", SQL).identifier == "Any.Name"
    mapping = plan_names(["main.Sales.Orders"], S3_TABLES)
    assert resolve_target("main.sales.orders", S3_TABLES, mapping).identifier == "sales.orders"
    with pytest.raises(ConfigError, match=r"must be NAMESPACE\.TABLE"):
        resolve_target("orders", S3_TABLES)
    with pytest.raises(ConfigError, match=r"table name 'Orders-EU' .* maps to 'sales\.orders_eu_[0-9a-f]{8}'"):
        resolve_target("sales.Orders-EU", S3_TABLES)
