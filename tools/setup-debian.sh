#!/usr/bin/env bash
# Prepares a fresh Debian machine for HarborOps' build, tests and demo: the real registry and peer
# tools the lab runs (CNCF Distribution, skopeo, kubectl, htpasswd, the Python Kubernetes client, headless chromium), buildah
# and debootstrap for building the container image, and the pinned PowerShell tool.
# Safe to run again; it installs only what is missing. Needs the .NET 10 SDK on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
# kubectl may already come from another package (the cloud SDK's); Debian's would clash with it.
command -v kubectl >/dev/null 2>&1 || need+=(kubernetes-client)
# A second, independent client of the Kubernetes emulator: the conformance script (tests/HarborOps.Lab.Tests/Kube/conformance.py).
# Debian's python3, as the test runs it: a python3 earlier on PATH (pyenv) may be another one without the package.
/usr/bin/python3 -c 'import kubernetes' >/dev/null 2>&1 || need+=(python3-kubernetes)
# Renders Measure-RegistryPull's HTML report headless in the tests (its charts are inline SVG) and keeps a screenshot.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Builds the migration image from deploy/container/Dockerfile without a daemon (tests/pester/Container.Tests.ps1), on
# Debian stand-ins for Microsoft's base images (deploy/container/build-image.sh --stand-in-bases).
command -v buildah >/dev/null 2>&1 || need+=(buildah fuse-overlayfs)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The lab's https registries need a name for this machine that resolves to loopback but is not 'localhost' (which
# HarborOps, like docker, reaches over plain HTTP). Debian's installer maps the host name to 127.0.1.1; containers may not.
if ! getent ahostsv4 "$(hostname)" 2>/dev/null | grep -q '^127\.'; then
  echo "setup: mapping $(hostname) to 127.0.1.1 in /etc/hosts for the lab's https registries"
  echo "127.0.1.1 $(hostname)" | as_root tee -a /etc/hosts >/dev/null
fi

command -v dotnet >/dev/null 2>&1 || { echo "setup: the .NET 10 SDK is required (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2; exit 1; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null
echo "setup: ready ($(docker-registry --version 2>/dev/null | awk '{print $NF}'), skopeo $(skopeo --version | awk '{print $NF}'), pwsh $(dotnet pwsh -NoProfile -Command '$PSVersionTable.PSVersion.ToString()'))"
