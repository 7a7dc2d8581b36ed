#!/usr/bin/env bash
# Regenerates the self-made ("simulated") certificate fixtures of the verify tests with the
# openssl CLI. Run once by hand; the outputs are committed, the ARK/ASK/ASVK private keys are
# thrown away. The VEK private key is kept because the tests sign reports with it.
#
#   sim_ark.pem        self-signed root "SIM-ARK", RSA-4096, RSASSA-PSS SHA-384/MGF1-SHA-384/salt 48
#   sim_ask.pem        "SIM-ASK" and sim_asvk.pem "SIM-ASVK", signed by sim_ark the same way
#   sim_vcek.der       "SEV-VCEK", EC P-384 (sim_vek_key.pem), Milan-B0 SPLs bl=3 tee=0 snp=8
#                      ucode=115, hwID = 64 bytes 0x11, signed by sim_ask
#   sim_vlek.der       "SEV-VLEK", same key, productName Milan, cspID, no hwID, signed by sim_asvk
#   sim_ask_pkcs1.pem  SIM-ASK signed with sha384WithRSAEncryption (PKCS#1 v1.5)   -- wrong algorithm
#   sim_ask_salt32.pem SIM-ASK signed with PSS salt length 32                      -- wrong salt
#   sim_ask_mgf256.pem SIM-ASK signed with PSS MGF1-SHA-256                        -- wrong MGF
#   sim_vcek_p256.der  "SEV-VCEK" with a P-256 key, signed by sim_ask               -- wrong curve
#   sim_ark_rsa2048.pem a self-signed RSA-2048 root                                -- wrong key size
set -euo pipefail
out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

PSS=(-sha384 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -sigopt rsa_mgf1_md:sha384)
SUBJ="/OU=Engineering/C=US/L=Test/ST=CA/O=cvminit test fixtures"
days=36500

cat > ca.ext <<'X'
[req]
distinguished_name = dn
[dn]
[root_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ask_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
X

hwid=$(printf '11%.0s' $(seq 64) | sed 's/../&:/g; s/:$//')
cat > vek.ext <<X
[vcek]
1.3.6.1.4.1.3704.1.1 = DER:02:01:00
1.3.6.1.4.1.3704.1.2 = DER:16:08:4D:69:6C:61:6E:2D:42:30
1.3.6.1.4.1.3704.1.3.1 = DER:02:01:03
1.3.6.1.4.1.3704.1.3.2 = DER:02:01:00
1.3.6.1.4.1.3704.1.3.4 = DER:02:01:00
1.3.6.1.4.1.3704.1.3.5 = DER:02:01:00
1.3.6.1.4.1.3704.1.3.6 = DER:02:01:00
1.3.6.1.4.1.3704.1.3.7 = DER:02:01:00
1.3.6.1.4.1.3704.1.3.3 = DER:02:01:08
1.3.6.1.4.1.3704.1.3.8 = DER:02:01:73
1.3.6.1.4.1.3704.1.4 = DER:$hwid
[vlek]
1.3.6.1.4.1.3704.1.1 = DER:02:01:00
1.3.6.1.4.1.3704.1.2 = DER:16:05:4D:69:6C:61:6E
1.3.6.1.4.1.3704.1.3.1 = DER:02:01:03
1.3.6.1.4.1.3704.1.3.2 = DER:02:01:00
1.3.6.1.4.1.3704.1.3.3 = DER:02:01:08
1.3.6.1.4.1.3704.1.3.8 = DER:02:01:73
1.3.6.1.4.1.3704.1.5 = DER:16:0A:43:4E:3D:73:69:6D:2D:63:73:70
X

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out ark.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out ask.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out asvk.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out small.key 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$out/sim_vek_key.pem"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.key

openssl req -new -x509 -key ark.key "${PSS[@]}" -days $days -subj "$SUBJ/CN=SIM-ARK" -set_serial 0x10000 \
    -extensions root_ext -config ca.ext -out "$out/sim_ark.pem"
openssl req -new -x509 -key small.key "${PSS[@]}" -days $days -subj "$SUBJ/CN=SIM-ARK-2048" -set_serial 1 \
    -extensions root_ext -config ca.ext -out "$out/sim_ark_rsa2048.pem"

# sign NAME KEY CN SERIAL EXTFILE SECTION OUT [sigopts...]
sign() {
    local name=$1 key=$2 cn=$3 serial=$4 ext=$5 section=$6 outfile=$7 issuer=$8 issuer_key=$9
    shift 9
    openssl req -new -key "$key" -subj "$SUBJ/CN=$cn" -config ca.ext -out "$name.csr"
    openssl x509 -req -in "$name.csr" -CA "$issuer" -CAkey "$issuer_key" -set_serial "$serial" -days $days \
        -extfile "$ext" -extensions "$section" "$@" -out "$outfile"
}
sign ask ask.key SIM-ASK 0x10001 ca.ext ask_ext "$out/sim_ask.pem" "$out/sim_ark.pem" ark.key "${PSS[@]}"
sign asvk asvk.key SIM-ASVK 0x10101 ca.ext ask_ext "$out/sim_asvk.pem" "$out/sim_ark.pem" ark.key "${PSS[@]}"
sign pkcs1 ask.key SIM-ASK 0x10002 ca.ext ask_ext "$out/sim_ask_pkcs1.pem" "$out/sim_ark.pem" ark.key -sha384
sign salt ask.key SIM-ASK 0x10003 ca.ext ask_ext "$out/sim_ask_salt32.pem" "$out/sim_ark.pem" ark.key -sha384 \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha384
sign mgf ask.key SIM-ASK 0x10004 ca.ext ask_ext "$out/sim_ask_mgf256.pem" "$out/sim_ark.pem" ark.key -sha384 \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -sigopt rsa_mgf1_md:sha256
sign vcek "$out/sim_vek_key.pem" SEV-VCEK 0 vek.ext vcek vcek.pem "$out/sim_ask.pem" ask.key "${PSS[@]}"
sign vlek "$out/sim_vek_key.pem" SEV-VLEK 0 vek.ext vlek vlek.pem "$out/sim_asvk.pem" asvk.key "${PSS[@]}"
sign p256 p256.key SEV-VCEK 0 vek.ext vcek p256.pem "$out/sim_ask.pem" ask.key "${PSS[@]}"
openssl x509 -in vcek.pem -outform der -out "$out/sim_vcek.der"
openssl x509 -in vlek.pem -outform der -out "$out/sim_vlek.der"
openssl x509 -in p256.pem -outform der -out "$out/sim_vcek_p256.der"
echo "fixtures written to $out"
