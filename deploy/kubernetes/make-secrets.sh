#!/usr/bin/env bash
# make-secrets.sh NAMESPACE DIR [MEMBERS]: the Secrets that statefulset.yaml mounts, for trying Holdfast
# out on Kubernetes (docs/kubernetes.md). Writes into DIR:
#   secrets.yaml            Secret holdfast-tls (type kubernetes.io/tls: ca.crt, tls.crt, tls.key, as cert-manager
#                           writes it) and Secret holdfast-token (token.secret), for
#                           `kubectl apply -n NAMESPACE -f DIR/secrets.yaml`
#   ca.pem, ca-key.pem      the CA (keep ca-key.pem to yourself; a second run in DIR keeps this CA)
#   app.token, admin.token  bearer tokens for the identities of config.yaml's rules (24 h, 1 h)
# The node certificate names every pod's peer name holdfast-N.holdfast-peers.NAMESPACE.svc.cluster.local
# for N below MEMBERS (default 5, room to grow from 3) and the clients' Service holdfast.NAMESPACE.svc…
# HOLDFAST is the command to run (default: holdfast, from the distribution's bin on the PATH).
# Not a production PKI: with your own, put its files into the same Secrets under the same keys.
set -euo pipefail
ns=${1:?usage: make-secrets.sh NAMESPACE DIR [MEMBERS]}
dir=${2:?usage: make-secrets.sh NAMESPACE DIR [MEMBERS]}
members=${3:-5}
read -r -a holdfast <<<"${HOLDFAST:-holdfast}"

hosts=
for ((i = 0; i < members; i++)); do
  hosts+="holdfast-$i.holdfast-peers.$ns.svc.cluster.local,"
done
hosts+="holdfast.$ns.svc.cluster.local,holdfast.$ns.svc,holdfast.$ns,holdfast,localhost,127.0.0.1"

mkdir -p "$dir"
"${holdfast[@]}" certs --out "$dir" --nodes node --clients admin --hosts "$hosts" >/dev/null
if [[ ! -f $dir/token.secret ]]; then
  (umask 077 && head -c 48 /dev/urandom | base64 >"$dir/token.secret")
fi
"${holdfast[@]}" token --secret "$dir/token.secret" --identity app --ttl 24h >"$dir/app.token"
"${holdfast[@]}" token --secret "$dir/token.secret" --identity admin --ttl 1h >"$dir/admin.token"

# secret NAME TYPE KEY=FILE...: a Secret manifest of TYPE holding DIR's FILE under KEY, for each pair
secret() {
  local name=$1 type=$2 pair
  shift 2
  printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  labels:\n    app.kubernetes.io/name: holdfast\ntype: %s\ndata:\n' "$name" "$type"
  for pair; do
    printf '  %s: %s\n' "${pair%%=*}" "$(base64 -w0 <"$dir/${pair#*=}")"
  done
}
{
  secret holdfast-tls kubernetes.io/tls ca.crt=ca.pem tls.crt=node.pem tls.key=node-key.pem
  echo ---
  secret holdfast-token Opaque token.secret=token.secret
} >"$dir/secrets.yaml"
echo "wrote $dir/secrets.yaml, $dir/app.token and $dir/admin.token (CA: $dir/ca.pem)"
