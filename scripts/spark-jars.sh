#!/usr/bin/env bash
# Build the jars a local Spark needs to read and write Iceberg, offline (Maven is unreachable here):
# Apache's iceberg-spark-runtime (from the PyPI package snowpark-connect-deps-iceberg, which ships it
# without its shaded Jackson) plus pyspark's own Jackson jars relocated to the package names the
# runtime expects. Usage: scripts/spark-jars.sh PYTHON OUTPUT_DIR
set -euo pipefail
python=$1
out=$(realpath -m "$2")
jarjar=/usr/share/java/jarjar.jar

"$(dirname "$0")/debian-package.sh" libjarjar-java "$jarjar"

read -r pyspark_jars iceberg_jars < <("$python" - <<'PY'
import os
import pyspark
import snowpark_connect_deps_iceberg
print(os.path.join(os.path.dirname(pyspark.__file__), "jars"),
      os.path.join(os.path.dirname(snowpark_connect_deps_iceberg.__file__), "jars"))
PY
)

rm -rf "$out"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo 'rule com.fasterxml.jackson.** org.apache.iceberg.shaded.com.fasterxml.jackson.@1' > "$work/rules.txt"
for name in core databind annotations; do
  source_jar=$(ls "$pyspark_jars"/jackson-"$name"-2.*.jar | head -n 1)
  # Copy without the multi-release classes, which would escape the relocation.
  "$python" - "$source_jar" "$work/$name.jar" <<'PY'
import sys
import zipfile
with zipfile.ZipFile(sys.argv[1]) as source, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as target:
    for item in source.infolist():
        if not item.filename.startswith("META-INF/versions/"):
            target.writestr(item, source.read(item))
PY
  java -jar "$jarjar" process "$work/rules.txt" "$work/$name.jar" "$out/iceberg-shaded-jackson-$name.jar"
done
cp "$iceberg_jars"/iceberg-spark-runtime-3.5_2.12-*.jar "$out/"
ls "$out"/*.jar > "$out/jars.txt"
echo "spark-jars: $(wc -l < "$out/jars.txt") jars in $out"
