"""What the tests share: Delta table writers, encoders, comparisons, local servers and the fixtures
of the service tests (moto, Spark), loaded as plugins by ``tests/conftest.py``. No test module imports
another; what two of them need lives here."""
