-- Databricks notebook source
-- MAGIC %md
-- MAGIC # Card spend maintenance
-- MAGIC A SQL notebook: widgets, named parameters, liquid clustering, constraints and `@` time travel.

-- COMMAND ----------

-- expect[dbutils-widgets:+1]
CREATE WIDGET TEXT min_day DEFAULT '2024-03-01';
-- expect[dbutils-widgets:+1]
CREATE WIDGET DROPDOWN status DEFAULT 'settled' CHOICES SELECT 'settled'

-- COMMAND ----------

-- expect[liquid-clustering:+1] expect[using-delta:+1]
CREATE TABLE main.bank.large_payments (tx_id BIGINT, account_id BIGINT, amount DECIMAL(18, 2)) USING DELTA CLUSTER BY (account_id);
-- expect[liquid-clustering:+1]
ALTER TABLE main.bank.large_payments CLUSTER BY (account_id, amount);
-- expect[liquid-clustering:+1]
ALTER TABLE main.bank.large_payments CLUSTER BY NONE;
-- expect[check-constraint:+1]
ALTER TABLE main.bank.large_payments ADD CONSTRAINT positive_amount CHECK (amount > 0)

-- COMMAND ----------

-- expect[sql-widget-bound:+1] (both references: findings point at the statement's first line)
SELECT count(*) FROM main.bank.card_transactions WHERE tx_date >= :min_day
  AND status = getArgument('status')

-- COMMAND ----------

-- expect[time-travel-at-syntax:+1] expect[time-travel:+1]
SELECT count(*) FROM main.bank.card_transactions@v1;
-- expect[time-travel-at-syntax:+1] expect[time-travel-timestamp:+1]
SELECT count(*) FROM main.bank.card_transactions@20240301120000000;
-- expect[sql-parse-error:+1]
SELECT count(*) FROM main.bank.card_transactions@yesterday
