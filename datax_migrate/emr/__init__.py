"""Run conversions on Amazon EMR: a job spec, the script EMR runs, packaging and submission.

``datax-migrate emr submit`` stages a job (this package as a zip for ``--py-files``, the entry
script, the job spec as JSON) under an S3 prefix and starts it as an EMR Serverless job run or as
EMR-on-EC2 steps. On EMR the entry script converts each table with the Spark engine, reconciles
it, and writes one result per table next to the job spec. docs/emr.md has the set-up.
"""
