# Databricks notebook source
# MAGIC %md
# MAGIC # Daily sales load
# MAGIC Loads raw orders, merges them into the curated table and maintains it.

# COMMAND ----------

# MAGIC %pip install great-expectations==0.18.8
# MAGIC # expect[magic-pip:-1]

# COMMAND ----------

dbutils.widgets.text("run_date", "2024-01-01", "Run date")
dbutils.widgets.dropdown("env", "dev", ["dev", "prod"])
run_date = dbutils.widgets.get("run_date")

# COMMAND ----------

# MAGIC %run ./helpers/common

# COMMAND ----------

from delta.tables import DeltaTable
from pyspark.sql import functions as F

# expect[databricks-setting-removed:+1]
spark.conf.set("spark.databricks.delta.optimizeWrite.enabled", "true")
spark.conf.set("spark.sql.shuffle.partitions", "8")  # stays: a Spark setting

orders = spark.read.format("delta").table("main.sales.orders")  # the curated table
previous = spark.read.format("delta").option("versionAsOf", 3).table("main.sales.orders")
# expect[path-not-mapped:+2]
# expect[delta-path-read:+1]
raw = spark.read.format("delta").load("/mnt/landing/orders")
# expect[path-not-mapped:+1]
events = spark.read.json("dbfs:/mnt/landing/events/")

# COMMAND ----------

updates = raw.where(F.col("order_date") == run_date)
(
    DeltaTable.forName(spark, "main.sales.orders")
    .alias("t")
    .merge(updates.alias("s"), "t.order_id = s.order_id")
    .whenMatchedUpdateAll()
    .whenNotMatchedInsertAll()
    .execute()
)
updates.write.format("delta").mode("append").saveAsTable("main.sales.orders_audit")
# expect[delta-write-option:+1]
updates.write.format("delta").mode("overwrite").option("overwriteSchema", "true").partitionBy("order_date").saveAsTable("sales.daily")

# COMMAND ----------

password = dbutils.secrets.get(scope="jdbc", key="password")
files = dbutils.fs.ls("s3://already-on-aws/landing/")
# expect[dbutils-unsupported:+1]
dbutils.library.restartPython()
display(orders.groupBy("country").count())

# COMMAND ----------

# MAGIC %sql
# MAGIC -- expect[generated-column:+1]
# MAGIC CREATE TABLE IF NOT EXISTS main.sales.daily_totals (
# MAGIC   day DATE GENERATED ALWAYS AS (CAST(ts AS DATE)),
# MAGIC   ts TIMESTAMP,
# MAGIC   total DECIMAL(18, 2),
# MAGIC   CONSTRAINT positive CHECK (total >= 0)
# MAGIC ) USING DELTA
# MAGIC PARTITIONED BY (day)
# MAGIC TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true');
# MAGIC -- expect[check-constraint:-8] expect[delta-table-property:-8]
# MAGIC OPTIMIZE main.sales.orders ZORDER BY (customer_id, order_date);
# MAGIC VACUUM main.sales.orders RETAIN 168 HOURS;
# MAGIC DESCRIBE HISTORY main.sales.orders;
# MAGIC SELECT * FROM main.sales.orders VERSION AS OF 3 WHERE order_date = current_date();
# MAGIC RESTORE TABLE main.sales.orders TO VERSION AS OF 3;
# MAGIC -- expect[convert-to-delta:+1]
# MAGIC CONVERT TO DELTA parquet.`/mnt/legacy/orders`;
# MAGIC -- expect[clone:+1]
# MAGIC CREATE TABLE main.sales.orders_copy SHALLOW CLONE main.sales.orders

# COMMAND ----------

# MAGIC %sql
# MAGIC -- expect[sql-widget-bound:+1]
# MAGIC SELECT count(*) FROM main.sales.orders WHERE order_date = '${run_date}';
# MAGIC -- expect[sql-widget-parameter:+1]
# MAGIC SELECT count(*) FROM main.sales.orders WHERE amount > ${min_amount}

# COMMAND ----------

# MAGIC %sh
# MAGIC ls -la /tmp
# MAGIC # expect[magic-sh:-1]

# COMMAND ----------

# MAGIC %scala
# MAGIC val df = spark.table("main.sales.orders")
# MAGIC // expect[magic-scala:-1]

# COMMAND ----------

# expect[auto-loader:+1]
stream = spark.readStream.format("cloudFiles").option("cloudFiles.format", "json").load("s3://already-on-aws/in/")
# expect[mlflow:+1]
import mlflow

# COMMAND ----------

# expect[python-parse-error:+1]
result = (spark.table("main.sales.orders")
