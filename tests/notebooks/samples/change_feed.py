# Databricks notebook source
# expect[change-feed-read:+1]
changes = spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", 2).option("endingVersion", 5).table("main.sales.orders")
# expect[change-feed-read:+1]
since = spark.read.option("readChangeData", True).option("startingTimestamp", "2024-01-01").table("main.sales.orders")
# expect[change-feed-read:+1]
in_sql = spark.sql("SELECT * FROM table_changes('main.sales.orders', 1) WHERE _change_type = 'delete'")

# COMMAND ----------

# expect[change-feed-unsupported:+1]
stream = spark.readStream.format("delta").option("readChangeFeed", "true").option("startingVersion", 1).table("main.sales.orders")
start = 3
# expect[change-feed-unsupported:+1]
computed = spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", start).table("main.sales.orders")
