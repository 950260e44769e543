#!/usr/bin/env bash
# Regenerates the TLS fixtures of test_thumbprint.c (run from this folder;
# needs the openssl CLI). EC P-256 keys, valid for 100 years, so the files
# can stay committed. The CA keys are thrown away: the tests only serve the
# leaf chains and trust root.pem / inter.pem / self.pem.
#
#   root.pem          self-signed root CA
#   inter.pem         intermediate CA, signed by root
#   leaf.pem/.key     server cert for IP 127.0.0.1 and localhost, signed by inter
#   leaf-chain.pem    leaf + inter: what a well-configured server presents
#   extra-chain.pem   leaf + inter + self.pem: a server (or attacker) appending
#                     an unrelated certificate at the end of what it presents
#   other.pem/.key    server cert for other.example only, signed by inter
#   other-chain.pem   other + inter
#   self.pem/.key     self-signed server cert for 127.0.0.1 and localhost
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
days=36500
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

key "$tmp/root.key"
openssl req -x509 -new -key "$tmp/root.key" -sha256 -days $days -subj "/CN=keyless test root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem

key "$tmp/inter.key"
openssl req -new -key "$tmp/inter.key" -subj "/CN=keyless test intermediate CA" -out "$tmp/inter.csr"
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' >"$tmp/inter.ext"
openssl x509 -req -in "$tmp/inter.csr" -CA root.pem -CAkey "$tmp/root.key" -CAcreateserial -sha256 -days $days \
  -extfile "$tmp/inter.ext" -out inter.pem 2>/dev/null

server() { # name san
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$1" -out "$tmp/$1.csr"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\nauthorityKeyIdentifier=keyid\n' "$2" >"$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA inter.pem -CAkey "$tmp/inter.key" -CAcreateserial -sha256 -days $days \
    -extfile "$tmp/$1.ext" -out "$1.pem" 2>/dev/null
}
server leaf "IP:127.0.0.1,DNS:localhost"
server other "DNS:other.example"

key self.key
openssl req -x509 -new -key self.key -sha256 -days $days -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -addext "extendedKeyUsage=serverAuth" -out self.pem

cat leaf.pem inter.pem >leaf-chain.pem
cat leaf.pem inter.pem self.pem >extra-chain.pem
cat other.pem inter.pem >other-chain.pem
rm -f ./*.srl
for f in root inter leaf self; do printf '%-6s %s\n' $f "$(openssl x509 -in $f.pem -noout -fingerprint -sha1)"; done
