"""Assessment: findings, a strategy and estimates for every object of an inventory, and the reports."""

from datax_migrate.assess.assessment import Assessment, assess

__all__ = ["Assessment", "assess"]
