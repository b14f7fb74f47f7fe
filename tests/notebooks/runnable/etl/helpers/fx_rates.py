# Databricks notebook source
# MAGIC %md
# MAGIC Shared FX rates to EUR for the load notebooks (`%run ./helpers/fx_rates`).

# COMMAND ----------

from pyspark.sql import functions as F

FX_TO_EUR = {"EUR": 1.0, "GBP": 1.17, "USD": 0.92}


def to_eur(amount, currency):
    rates = F.create_map(*[F.lit(value) for pair in FX_TO_EUR.items() for value in pair])
    return F.round(amount.cast("double") * rates[currency], 2)
