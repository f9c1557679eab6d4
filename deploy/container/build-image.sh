#!/usr/bin/env bash
# Builds deploy/container/Dockerfile with buildah (no daemon, no Docker): from the repository root,
#     deploy/container/build-image.sh [--tag NAME] [--stand-in-bases]
# prints the image ID on its last line. Without --stand-in-bases the Dockerfile's pinned Microsoft images are pulled.
#
# --stand-in-bases builds on two local images instead, for machines that cannot reach mcr.microsoft.com (this
# repository's tests): Debian bookworm (debootstrap, minbase) with this machine's .NET at /usr/share/dotnet, as Microsoft's
# images lay it out; the SDK stand-in also gets PowerShell as a .NET tool under /usr/share/powershell (the SDK image's
# layout, which the runtime stage copies) and this machine's CA bundle (a build behind a TLS-inspecting proxy restores
# from NuGet through it); the runtime stand-in gets only Microsoft.NETCore.App. Everything the Dockerfile does itself
# (the module build from source, the copies, the user, the environment, the entrypoint) runs as written. What the stand-ins
# cannot show: that the pinned digests are the images they claim (docs/running-in-kubernetes.md, "The container image").
#
# Needs root (or a user set up for rootless buildah), buildah, and for --stand-in-bases debootstrap and the .NET 10 SDK.
set -euo pipefail
cd "$(dirname "$0")/../.."

tag="localhost/harborops:$(sed -n "s/^ *ModuleVersion *= *'\([^']*\)'.*/\1/p" HarborOps.psd1)"
stand_in=false
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --stand-in-bases) stand_in=true; shift ;;
    *) echo "build-image: unknown argument '$1' (give --tag NAME and/or --stand-in-bases)" >&2; exit 2 ;;
  esac
done
command -v buildah >/dev/null 2>&1 || { echo "build-image: buildah is required (Debian: apt-get install buildah)" >&2; exit 1; }
export BUILDAH_ISOLATION=chroot

build_args=()
if $stand_in; then
  command -v debootstrap >/dev/null 2>&1 || { echo "build-image: --stand-in-bases needs debootstrap (Debian: apt-get install debootstrap)" >&2; exit 1; }
  dotnet_root="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  runtime_version="$(ls "$dotnet_root/shared/Microsoft.NETCore.App" | sort -V | tail -n 1)"
  pwsh_version="$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' .config/dotnet-tools.json | head -n 1)"
  # One pair of stand-ins per .NET runtime and PowerShell version: a later run reuses them.
  stand_in_tag="$runtime_version-pwsh$pwsh_version"
  sdk_image="localhost/harborops-stand-in/sdk:$stand_in_tag"
  runtime_image="localhost/harborops-stand-in/runtime:$stand_in_tag"
  if ! buildah inspect --type image "$sdk_image" >/dev/null 2>&1 || ! buildah inspect --type image "$runtime_image" >/dev/null 2>&1; then
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    echo "build-image: Debian bookworm for the stand-in bases"
    debootstrap --variant=minbase --include=ca-certificates,libicu72,libssl3 bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
      || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
    DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 dotnet tool install --tool-path "$work/powershell" PowerShell --version "$pwsh_version" >"$work/tool.log" 2>&1 \
      || { cat "$work/tool.log" >&2; exit 1; }

    container="$(buildah from scratch)"
    root="$(buildah mount "$container")"
    cp -a "$work/rootfs/." "$root/"
    cp -a "$dotnet_root" "$root/usr/share/dotnet"
    ln -sf /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
    cp -a "$work/powershell" "$root/usr/share/powershell"
    ln -sf /usr/share/powershell/pwsh "$root/usr/bin/pwsh"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    [ -z "${NUGET_CERT_REVOCATION_MODE:-}" ] || buildah config --env "NUGET_CERT_REVOCATION_MODE=$NUGET_CERT_REVOCATION_MODE" "$container"
    buildah commit -q --rm "$container" "$sdk_image" >/dev/null

    container="$(buildah from scratch)"
    root="$(buildah mount "$container")"
    cp -a "$work/rootfs/." "$root/"
    mkdir -p "$root/usr/share/dotnet/shared"
    cp -a "$dotnet_root/dotnet" "$dotnet_root/host" "$root/usr/share/dotnet/"
    cp -a "$dotnet_root/shared/Microsoft.NETCore.App" "$root/usr/share/dotnet/shared/"
    ln -sf /usr/share/dotnet/dotnet "$root/usr/bin/dotnet"
    buildah commit -q --rm "$container" "$runtime_image" >/dev/null
  fi
  build_args=(--build-arg "SDK_IMAGE=$sdk_image" --build-arg "RUNTIME_IMAGE=$runtime_image")
fi

echo "build-image: building $tag"
buildah bud --isolation chroot --layers=false --quiet "${build_args[@]}" -f deploy/container/Dockerfile -t "$tag" . >&2
buildah inspect --type image --format '{{.FromImageID}}' "$tag"
