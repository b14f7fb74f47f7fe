# Databricks notebook source
# MAGIC %md
# MAGIC # Big orders report

# COMMAND ----------

dbutils.widgets.text("min_amount", "50")

# COMMAND ----------

from delta.tables import DeltaTable

min_amount = float(dbutils.widgets.get("min_amount"))
orders = spark.read.format("delta").option("versionAsOf", 1).table("main.shop.orders")
big = orders.where(orders.amount >= min_amount)
big.write.format("delta").mode("overwrite").saveAsTable("main.shop.big_orders")
print("big orders:", spark.table("main.shop.big_orders").count())

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT country, count(*) AS n FROM main.shop.big_orders GROUP BY country ORDER BY country

# COMMAND ----------

updates = spark.table("main.shop.orders").where("id < 10").selectExpr("id", "amount + 1000 AS amount", "country")
(
    DeltaTable.forName(spark, "main.shop.big_orders").alias("t")
    .merge(updates.alias("s"), "t.id = s.id")
    .whenMatchedUpdateAll()
    .whenNotMatchedInsertAll()
    .execute()
)
merged = spark.table("main.shop.big_orders")
print("after merge:", merged.count(), merged.where("amount >= 1000").count())

# COMMAND ----------

# MAGIC %sql
# MAGIC DESCRIBE HISTORY main.shop.orders

# COMMAND ----------

version_rows = spark.sql("SELECT count(*) FROM main.shop.orders VERSION AS OF 0").collect()[0][0]
print("version 0 rows:", version_rows)
