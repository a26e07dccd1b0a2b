# shellcheck shell=bash
# Node.js >= 20.19 on the Pi. Trixie's own nodejs package is 20.19; Bookworm's is 18, so there
# Node 22 comes from NodeSource's apt repository (arm64 and armhf; the 64-bit OS is recommended).
# Needs common.sh.

node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'
}

install_nodesource_22() {
  apt-get update
  apt-get install -y ca-certificates curl gnupg
  install -d -m 0755 /etc/apt/keyrings
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg
  printf 'deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_22.x nodistro main\n' \
    >/etc/apt/sources.list.d/nodesource.list
  apt-get update
  apt-get install -y nodejs
}

# ensure_node INSTALL(0|1)
ensure_node() {
  if node_ok; then
    log "node $(node --version) found"
    return 0
  fi
  local codename=""
  # shellcheck disable=SC1091
  [ -r /etc/os-release ] && codename="$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-}")"
  if [ "$1" -ne 1 ]; then
    die "Node.js >= 20.19 is needed (found: $(node --version 2>/dev/null || echo none)). Re-run with --install-node, or:
  Trixie:   sudo apt-get install nodejs
  Bookworm: Node 22 from NodeSource (see docs/operations.md, step 3)"
  fi
  case "$codename" in
    bookworm) install_nodesource_22 ;;
    *) apt-get update && apt-get install -y nodejs ;;
  esac
  node_ok || die "node is still older than 20.19 after installing ($(node --version 2>/dev/null || echo none))"
}
