#!/bin/sh
# Creates Herald's namespace and its custom search attributes (all Keyword) with the Temporal CLI
# of temporalio/admin-tools, as in temporalio/samples-server compose/scripts/create-namespace.sh.
# The workers also register the search attributes at startup (temporal/search-attributes.ts); doing
# it here means the API can start workflows before the first worker is up. Safe to re-run.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${HERALD_NAMESPACE:?}"
host="${TEMPORAL_ADDRESS%:*}"
port="${TEMPORAL_ADDRESS##*:}"
nc -z -w 10 "$host" "$port"
attempt=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do
  attempt=$((attempt + 1))
  [ "$attempt" -ge 12 ] && { echo "Temporal at $TEMPORAL_ADDRESS is not healthy"; exit 1; }
  sleep 5
done
temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$HERALD_NAMESPACE" >/dev/null 2>&1 \
  || temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$HERALD_NAMESPACE"
# A namespace is usable a few seconds after it is created; retry until the attributes exist.
for name in CampaignId RequestId Channel CampaignType; do
  attempt=0
  until temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" -n "$HERALD_NAMESPACE" | grep -qw "$name"; do
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$HERALD_NAMESPACE" --name "$name" --type Keyword || true
    attempt=$((attempt + 1))
    [ "$attempt" -ge 12 ] && { echo "could not create search attribute $name"; exit 1; }
    sleep 2
  done
done
echo "namespace $HERALD_NAMESPACE and Herald's search attributes are ready"
