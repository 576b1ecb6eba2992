#!/bin/bash
# Lets the standby containers clone and follow this server (the image's own pg_hba.conf allows replication
# from inside the container only).
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
