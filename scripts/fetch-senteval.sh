#!/usr/bin/env bash
# Usage: scripts/fetch-senteval.sh [--from DIR] [DEST]
#
# Puts the nine SentEval classification tasks (MR CR SUBJ MPQA SST2 SST5 TREC MRPC SICK-E) in
# SentEval's own layout into DEST (default: datasets/senteval, git-ignored), then checks every
# file with `sha256sum -c` against datasets/SHA256SUMS.senteval.
#
#   --from DIR   copy from a local copy: DIR holds MR/, CR/, ... (e.g. a SentEval
#                data/downstream folder, or /work/shared/datasets/senteval), or DIR/downstream/ does.
#   (default)    download from the public sources that SentEval's data/downstream/get_transfer_data.bash
#                uses and post-process the files the way that script does (PTB sed tokenizer with
#                `cat -v`, TREC quote stripping, Moses tokenizer for SICK). Needs network access,
#                curl, unzip, perl, sed and sha256sum.
#
# Nothing fetched is committed: datasets/senteval/ is in .gitignore.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
sums="$root/datasets/SHA256SUMS.senteval"
from=""
dest=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="${2:?--from needs a folder}"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    -*) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
    *) dest="$1"; shift ;;
  esac
done
dest="${dest:-$root/datasets/senteval}"
files="$(awk '{print $2}' "$sums")"

verify() {
  cp "$sums" "$dest/SHA256SUMS"
  chmod u+w "$dest/SHA256SUMS"
  if (cd "$dest" && sha256sum -c --quiet SHA256SUMS); then
    echo "SentEval data in $dest: all $(wc -l < "$sums") files verified"
  else
    echo "checksum verification FAILED in $dest (see the lines above)" >&2
    exit 1
  fi
}

if [ -n "$from" ]; then
  src="$from"
  [ -d "$src/MR" ] || src="$from/downstream"
  if [ ! -d "$src/MR" ]; then
    echo "--from $from: no MR/ folder there nor in $from/downstream/" >&2
    exit 1
  fi
  for f in $files; do
    if [ ! -f "$src/$f" ]; then echo "--from $from: missing $f" >&2; exit 1; fi
    mkdir -p "$dest/$(dirname "$f")"
    cp "$src/$f" "$dest/$f"
    chmod u+w "$dest/$f"
  done
  verify
  exit 0
fi

for tool in curl unzip perl sed sha256sum; do
  command -v "$tool" >/dev/null || { echo "need $tool on PATH (or use --from DIR)" >&2; exit 1; }
done

# Sources, as in SentEval's get_transfer_data.bash (the S3 bucket it names now lives at
# dl.fbaipublicfiles.com; the cogcomp TREC files moved to cogcomp.seas.upenn.edu).
SENTEVAL_RAW='https://raw.githubusercontent.com/facebookresearch/SentEval/5d6dc117d1ac30357ddaeb7347fb5684e9b87015/data/downstream'
MOSES_RAW='https://raw.githubusercontent.com/moses-smt/mosesdecoder/master/scripts'
BINCLASSIF='https://dl.fbaipublicfiles.com/senteval/senteval_data/datasmall_NB_ACL12.zip'
MRPC='https://dl.fbaipublicfiles.com/senteval/senteval_data'
SSTbin='https://raw.githubusercontent.com/PrincetonML/SIF/master/data'
SSTfine='https://raw.githubusercontent.com/AcademiaSinicaNLPLab/sentiment_dataset/master/data'
TREC='https://cogcomp.seas.upenn.edu/Data/QA/QC'
SICK='https://alt.qcri.org/semeval2014/task1/data/uploads'

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
get() { # get URL FILE
  if ! curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"; then
    echo "download failed: $1" >&2
    echo "no network access to the original sources? Copy a local SentEval folder instead:" >&2
    echo "  scripts/fetch-senteval.sh --from /path/to/senteval [DEST]" >&2
    exit 1
  fi
}

echo "downloading SentEval tools and data into $tmp ..."
get "$SENTEVAL_RAW/tokenizer.sed" "$tmp/tokenizer.sed"
mkdir -p "$tmp/moses/tokenizer" "$tmp/moses/share/nonbreaking_prefixes"
get "$MOSES_RAW/tokenizer/tokenizer.perl" "$tmp/moses/tokenizer/tokenizer.perl"
get "$MOSES_RAW/share/nonbreaking_prefixes/nonbreaking_prefix.en" \
  "$tmp/moses/share/nonbreaking_prefixes/nonbreaking_prefix.en"
ptb() { sed -f "$tmp/tokenizer.sed"; }
moses() { perl "$tmp/moses/tokenizer/tokenizer.perl" -l en -no-escape -q; }

out="$tmp/out"
mkdir -p "$out"/{SST/binary,SST/fine,TREC,SICK,MR,CR,SUBJ,MPQA,MRPC}
for split in train dev test; do
  get "$SSTbin/sentiment-$split" "$out/SST/binary/sentiment-$split"
  get "$SSTfine/stsa.fine.$split" "$out/SST/fine/sentiment-$split"
done

for split in train_5500 TREC_10; do
  get "$TREC/$split.label" "$out/TREC/$split.label"
  sed -i -e 's/`//g' -e "s/'//g" "$out/TREC/$split.label"
done

for split in train trial test_annotated; do
  get "$SICK/sick_$split.zip" "$tmp/sick_$split.zip"
  unzip -q -o "$tmp/sick_$split.zip" -d "$tmp/sick"
  f="$tmp/sick/SICK_$split.txt"
  cut -f1 "$f" | sed '1d' > "$tmp/c1"
  cut -f4,5 "$f" | sed '1d' > "$tmp/c45"
  cut -f2 "$f" | sed '1d' | moses > "$tmp/c2"
  cut -f3 "$f" | sed '1d' | moses > "$tmp/c3"
  { head -n 1 "$f"; paste "$tmp/c1" "$tmp/c2" "$tmp/c3" "$tmp/c45"; } > "$out/SICK/SICK_$split.txt"
done

get "$BINCLASSIF" "$tmp/classif.zip"
unzip -q -o "$tmp/classif.zip" -d "$tmp/bin"
d="$tmp/bin/data"
for pair in "rt10662/rt-polarity.pos MR" "rt10662/rt-polarity.neg MR" \
            "customerr/custrev.pos CR" "customerr/custrev.neg CR" \
            "subj/subj.subjective SUBJ" "subj/subj.objective SUBJ" \
            "mpqa/mpqa.pos MPQA" "mpqa/mpqa.neg MPQA"; do
  file="${pair% *}"; task="${pair#* }"
  cat -v "$d/$file" | ptb > "$out/$task/$(basename "$file")"
done

for split in train test; do
  get "$MRPC/msr_paraphrase_$split.txt" "$out/MRPC/msr_paraphrase_$split.txt"
done

for f in $files; do
  mkdir -p "$dest/$(dirname "$f")"
  cp "$out/$f" "$dest/$f"
done
verify
