# Fetching pinned Debian packages for tests, from the mirror this machine's apt already uses
# (apt verifies them against the signed archive), with a private apt state under $cache/apt so
# the system's configuration is never touched. `source` it after setting $cache; callers define
# skip() (exit 77: the mirror no longer serves a pinned version).

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

debian_mirror() {
  local f=/etc/apt/sources.list.d/debian.sources
  if [[ -f $f ]]; then
    awk '/^[[:space:]]*$/ { if (ok && u) { print u; exit } u = ""; ok = 0; next }
         $1 == "URIs:"    { u = $2 }
         $1 == "Suites:"  { for (i = 2; i <= NF; i++) if ($i == "bookworm") ok = 1 }
         END              { if (ok && u) print u }' "$f" | head -n1
  elif [[ -f /etc/apt/sources.list ]]; then
    sed -E 's/\[[^]]*\]//' /etc/apt/sources.list |
      awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }'
  fi
}

apt_opts=()
apt_ready=0
private_apt() {
  ((apt_ready)) && return 0
  command -v apt-get >/dev/null || skip "apt-get is not available"
  local mirror dir=$cache/apt
  mirror=$(debian_mirror)
  [[ -n $mirror ]] || skip "cannot find the Debian mirror in /etc/apt"
  mkdir -p "$dir/sources" "$dir/preferences" "$dir/lists/partial" "$dir/cache/archives/partial"
  : >"$dir/status"
  printf 'Types: deb\nURIs: %s\nSuites: sid trixie\nComponents: main\nSigned-By: %s\n' \
    "$mirror" /usr/share/keyrings/debian-archive-keyring.gpg >"$dir/sources/cvm-tests.sources"
  apt_opts=(-qq -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$dir/sources"
    -o "Dir::Etc::PreferencesParts=$dir/preferences" -o Dir::Etc::Preferences=/dev/null
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache" -o "Dir::State::Status=$dir/status"
    -o Acquire::Languages=none -o APT::Architectures=amd64)
  [[ $(id -u) -eq 0 ]] && apt_opts+=(-o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update || skip "apt-get update failed (no network?)"
  apt_ready=1
}

# The indexes (~43 MB unpacked) are stale by the next fetch anyway.
drop_apt_state() { ((apt_ready)) && rm -rf "$cache/apt"; apt_ready=0; }

# fetch_deb PACKAGE VERSION DIR: DIR holds PACKAGE=VERSION unpacked (replaced if present).
fetch_deb() {
  local pkg=$1 version=$2 dest=$3 tmp
  private_apt
  tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
  (cd "$tmp" && apt-get "${apt_opts[@]}" download "$pkg=$version") ||
    { rm -rf "$tmp"; skip "the mirror does not serve $pkg=$version; update the pinned version"; }
  mkdir -p "$tmp/root"
  dpkg-deb -x "$tmp"/*.deb "$tmp/root"
  rm -rf "$dest"
  mv "$tmp/root" "$dest"
  rm -rf "$tmp"
}

# fetch_member NAME PACKAGE VERSION MEMBER SHA256: $cache/NAME holds MEMBER of PACKAGE=VERSION,
# pinned by its SHA-256; only that file is unpacked.
fetch_member() {
  local name=$1 pkg=$2 version=$3 member=$4 want=$5 dest=$cache/$1 tmp
  [[ -f $dest && $(sha256_of "$dest") == "$want" ]] && return 0
  private_apt
  tmp=$(mktemp -d "$cache/.fetch-$name.XXXXXX")
  (cd "$tmp" && apt-get "${apt_opts[@]}" download "$pkg=$version") ||
    { rm -rf "$tmp"; skip "the mirror does not serve $pkg=$version; update the pinned version"; }
  dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" "$member"
  [[ $(sha256_of "$tmp/$member") == "$want" ]] ||
    { rm -rf "$tmp"; echo "FAILED: $pkg=$version: $member is not the pinned file" >&2; exit 1; }
  mv "$tmp/$member" "$dest"
  rm -rf "$tmp"
}
