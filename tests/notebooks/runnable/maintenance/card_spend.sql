-- Databricks notebook source
-- MAGIC %md
-- MAGIC # Card spend by merchant
-- MAGIC Daily merchant totals of settled card transactions, kept compact; then a rollback drill on the source table.

-- COMMAND ----------

CREATE WIDGET TEXT min_day DEFAULT '2024-03-01'

-- COMMAND ----------

CREATE OR REPLACE TABLE main.bank.merchant_daily
USING DELTA
AS SELECT merchant, tx_date, count(*) AS transactions, sum(amount) AS spend
FROM main.bank.card_transactions
WHERE status = 'settled' AND tx_date >= :min_day
GROUP BY merchant, tx_date

-- COMMAND ----------

ALTER TABLE main.bank.merchant_daily ADD CONSTRAINT positive_spend CHECK (spend > 0)

-- COMMAND ----------

-- MAGIC %md
-- MAGIC Keep the table compact for the dashboard's merchant and day filters.

-- COMMAND ----------

OPTIMIZE main.bank.merchant_daily ZORDER BY (merchant, tx_date)

-- COMMAND ----------

VACUUM main.bank.merchant_daily RETAIN 168 HOURS

-- COMMAND ----------

SELECT merchant, sum(transactions) AS transactions, sum(spend) AS spend
FROM main.bank.merchant_daily
GROUP BY merchant
ORDER BY merchant

-- COMMAND ----------

CREATE TABLE main.bank.large_payments (tx_id BIGINT, account_id BIGINT, amount DECIMAL(18, 2))
USING DELTA
CLUSTER BY (account_id);

INSERT INTO main.bank.large_payments
SELECT tx_id, account_id, amount FROM main.bank.card_transactions WHERE amount >= 2000;

SELECT count(*) AS large_payments FROM main.bank.large_payments

-- COMMAND ----------

-- MAGIC %md
-- MAGIC ## Rollback drill

-- COMMAND ----------

DESCRIBE HISTORY main.bank.card_transactions

-- COMMAND ----------

SELECT count(*) AS rows_v1 FROM main.bank.card_transactions@v1

-- COMMAND ----------

RESTORE TABLE main.bank.card_transactions TO VERSION AS OF 1

-- COMMAND ----------

SELECT count(*) AS rows_after_restore FROM main.bank.card_transactions
