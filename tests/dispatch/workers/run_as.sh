#!/bin/sh
# A worker started with run_as: records who it runs as, and tries to read the owner's files
# (the database, the token file, config.yaml: each given as an argument) into its workspace.
id -u > uid
echo "$HOME" > home
for f in "$@"; do
  if cat "$f" > /dev/null 2>> denied; then echo "$f" >> readable; fi
done
touch done
