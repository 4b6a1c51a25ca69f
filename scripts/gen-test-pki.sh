#!/usr/bin/env bash
# Throwaway PKI for tests only (never committed): a CA, a server certificate for
# localhost/127.0.0.1/::1, client certificates (EC P-256 and RSA-2048), an expired one, a
# not-yet-valid one, a wildcard one, and a client certificate from another CA. Keys are
# unencrypted. Output (default build/pki):
#   ca.pem ca.key  server.pem server.key  client.pem client.key  client-rsa.pem client-rsa.key
#   expired.pem expired.key  future.pem future.key  wildcard.pem wildcard.key
#   other-ca.pem other-ca.key  other-client.pem other-client.key
#   rsa-ca.pem rsa-ca.key  rsa-server.pem rsa-server.key   an RSA-2048 CA and a server cert it
#                                                          signed (sha256WithRSAEncryption)
#   bundle/{ca.pem,cert.pem,key.pem}   the client's credentials, for `make CERTS=build/pki/bundle`
# Idempotent: does nothing when the output already holds a complete set (FORCE=1 remakes it).
set -euo pipefail
out=${1:-build/pki}
[ "${FORCE:-0}" = 1 ] && rm -rf "$out"
[ -f "$out/bundle/key.pem" ] && [ -f "$out/rsa-server.pem" ] && exit 0
mkdir -p "$out/bundle" "$out/db"
cd "$out"
: > db/index.txt
echo 1000 > db/serial

cat > ca.cnf <<'CNF'
[ ca ]
default_ca = test_ca
[ test_ca ]
database = db/index.txt
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
organizationName = optional
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[ client ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.qollective.test
[ wildcard ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.example.test, DNS:exact.example.org
CNF

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsa_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# make_ca NAME CN [rsa]
make_ca() {
  if [ "${3:-ec}" = rsa ]; then rsa_key "$1.key"; else ec_key "$1.key"; fi
  openssl req -new -x509 -key "$1.key" -subj "/CN=$2/O=Qollective Test" -days 3650 -sha256 \
    -config ca.cnf -extensions v3_ca -out "$1.pem" 2>/dev/null
}
# issue NAME CN EXTENSIONS CA [start end] [rsa]
issue() {
  local name=$1 cn=$2 ext=$3 ca=$4 start=${5:-} end=${6:-} kind=${7:-ec}
  if [ "$kind" = rsa ]; then rsa_key "$name.key"; else ec_key "$name.key"; fi
  openssl req -new -key "$name.key" -subj "/CN=$cn/O=Qollective Test" -out "$name.csr" 2>/dev/null
  local dates=(-days 825)
  [ -n "$start" ] && dates=(-startdate "$start" -enddate "$end")
  openssl ca -batch -config ca.cnf -cert "$ca.pem" -keyfile "$ca.key" -extensions "$ext" "${dates[@]}" \
    -notext -in "$name.csr" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr"
}

make_ca ca "Qollective Test CA"
make_ca other-ca "Other Test CA"
issue server localhost server ca
issue client qollective-test-client client ca
issue client-rsa qollective-test-client-rsa client ca "" "" rsa
issue expired qollective-expired-client client ca 20200101000000Z 20200201000000Z
issue future qollective-future-client client ca 20990101000000Z 20991231000000Z
issue wildcard wildcard.example.test wildcard ca
issue other-client other-ca-client client other-ca
make_ca rsa-ca "Qollective RSA Test CA" rsa
issue rsa-server localhost server rsa-ca "" "" rsa
cp ca.pem bundle/ca.pem
cp client.pem bundle/cert.pem
cp client.key bundle/key.pem
echo "gen-test-pki: wrote $(pwd)"
