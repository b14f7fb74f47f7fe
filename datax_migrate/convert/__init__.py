"""Conversion of Delta tables into Iceberg tables."""

from datax_migrate.convert.table import ConversionResult, ConvertOptions, Progress, convert_table

__all__ = ["ConversionResult", "ConvertOptions", "Progress", "convert_table"]
