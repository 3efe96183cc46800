#!/bin/sh
# Regenerates the TLS test fixtures (run from this directory; needs openssl).
# ca.pem signs server.pem (SAN 127.0.0.1 and localhost); other-ca.pem is an
# unrelated CA, for "several certificates in one cafile". Valid for 100 years.
set -eu
cd "$(dirname "$0")"
days=36500
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days $days -subj "/CN=brisk test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -x509 $ec -keyout other-ca.key -out other-ca.pem -days $days -subj "/CN=brisk other test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req $ec -keyout server.key -out server.csr -subj "/CN=127.0.0.1"
cat > server.ext <<EXT
subjectAltName=IP:127.0.0.1,DNS:localhost
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
EXT
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
  -days $days -extfile server.ext
rm -f server.csr server.ext ca.srl ca.key other-ca.key
