# Databricks notebook source
# MAGIC %md
# MAGIC # Account status load
# MAGIC Applies the account status files from the landing zone, rebuilds open balances in EUR and archives the files.
# MAGIC In `dry-run` mode the accounts table is restored afterwards.

# COMMAND ----------

dbutils.widgets.text("run_date", "2024-03-01")
dbutils.widgets.dropdown("country", "DE", ["DE", "FR", "NL", "ES", "IT", "GB", "US"])
dbutils.widgets.dropdown("mode", "apply", ["apply", "dry-run"])

# COMMAND ----------

# MAGIC %run ./helpers/fx_rates

# COMMAND ----------

from delta.tables import DeltaTable
from pyspark.sql import functions as F

run_date = dbutils.widgets.get("run_date")
country = dbutils.widgets.get("country")
landing = "dbfs:/mnt/landing/account_status"
archive = "dbfs:/mnt/landing/archive"
files = [f for f in dbutils.fs.ls(landing) if f.name.endswith(".csv")]
print("landing files:", len(files))
status = spark.read.option("header", True).csv([f.path for f in files])
display(status)

# COMMAND ----------

accounts = DeltaTable.forName(spark, "main.bank.accounts")
closing = [row.account_id for row in status.where("status = 'closed'").collect()]
freezing = [row.account_id for row in status.where("status = 'frozen'").collect()]
accounts.update(condition=F.col("account_id").isin([int(i) for i in freezing]), set={"status": "'frozen'"})
accounts.delete(F.col("account_id").isin([int(i) for i in closing]))
print("accounts after status files:", spark.table("main.bank.accounts").count())
print("frozen:", spark.table("main.bank.accounts").where("status = 'frozen'").count())

# COMMAND ----------

balances = (
    spark.table("main.bank.accounts")
    .where(F.col("status") == "open")
    .groupBy("country", "currency")
    .agg(F.count("*").alias("accounts"), F.sum("balance").alias("balance"))
    .withColumn("balance_eur", to_eur(F.col("balance"), F.col("currency")))
)
balances.write.format("delta").mode("overwrite").saveAsTable("main.bank.open_balances")
for row in spark.table("main.bank.open_balances").where(F.col("country") == country).collect():
    print("open balance:", row.country, row.currency, row.accounts, row.balance, row.balance_eur)

# COMMAND ----------

for f in files:
    dbutils.fs.cp(f.path, f"{archive}/{run_date}/{f.name}")
print("archived:", len(dbutils.fs.ls(f"{archive}/{run_date}")))

# COMMAND ----------

history = accounts.history()
display(history.select("version", "operation"))
print("converted versions:", sorted(int(row.version) for row in history.collect() if row.version is not None))
if dbutils.widgets.get("mode") == "dry-run":
    accounts.restoreToVersion(3)
    print("accounts after restore:", spark.table("main.bank.accounts").count())
