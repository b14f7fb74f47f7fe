-- Databricks notebook source
-- expect[change-feed-read:+1]
SELECT order_id, _change_type FROM table_changes('main.sales.orders', 2, 5) WHERE _change_type IN ('insert', 'update_postimage')

-- COMMAND ----------

-- expect[change-feed-read:+1]
SELECT * FROM table_changes('sales.orders', '2024-01-01 00:00:00', '2024-01-31 23:59:59')

-- COMMAND ----------

-- expect[change-feed-unsupported:+1]
SELECT * FROM table_changes('main.sales.orders', 'yesterday')
