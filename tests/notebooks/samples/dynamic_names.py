# Databricks notebook source
dbutils.widgets.text("schema", "sales")
dbutils.widgets.text("table")
name = "main.sales.orders"
catalog = "main"
schema: str = "sales"

# COMMAND ----------

# expect[table-name-resolved:+1]
orders = spark.table(name)
# expect[table-name-resolved:+1]
same = spark.table(f"{catalog}.{schema}.orders")
# expect[table-name-resolved:+1]
customers = spark.read.table(catalog + "." + schema + ".customers")
# expect[table-name-widget:+1]
chosen = spark.table("main." + dbutils.widgets.get("schema") + ".orders")
picked = dbutils.widgets.get("schema")
# expect[table-name-widget:+1]
delta = spark.read.format("delta").table(f"main.{picked}.orders")
# expect[table-name-dynamic:+1]
unknown = spark.table(dbutils.widgets.get("table"))
# expect[table-name-resolved:+1]
orders.write.format("delta").mode("append").saveAsTable(f"{catalog}.{schema}.orders_copy")
# expect[sql-resolved:+1]
totals = spark.sql(f"SELECT count(*) FROM {name}")

# COMMAND ----------

changing = "main.sales.a"
changing = "main.sales.b"
# expect[table-name-dynamic:+1]
spark.table(changing)
for each in ["main.sales.a", "main.sales.b"]:
    # expect[table-name-dynamic:+1]
    spark.table(each).count()


def load(table_name):
    # expect[table-name-dynamic:+1]
    return spark.table(table_name)


import pyarrow as pa

arrow = pa.table({"a": [1]})  # not a Spark table name: nothing to say
