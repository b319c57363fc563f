#!/usr/bin/env python3
"""Regenerates crates/data/tests/fixtures/tokenizers/: a tiny RoBERTa byte-level BPE
(vocab.json + merges.txt), a tiny BERT WordPiece (vocab.txt), the same BPE saved as a
tokenizer.json with padding and truncation baked in, and expected.json with the ids that
transformers' RobertaTokenizerFast / BertTokenizerFast give for single texts and pairs.

Run:  "$(DMLFT_PYREF=/work/.pyref scripts/pyref-env.sh)" scripts/make_tokenizer_fixtures.py
"""
import json
import os
import pathlib

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
from tokenizers import ByteLevelBPETokenizer, BertWordPieceTokenizer  # noqa: E402
from transformers import BertTokenizerFast, RobertaTokenizerFast  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/data/tests/fixtures/tokenizers"

# Training corpus for the tiny vocabularies (original sentences).
CORPUS = [
    "a gripping , funny film that never loses its nerve .",
    "the plot is thin and the jokes fall flat .",
    "Wonderful acting, a clever script and a warm heart.",
    "i did n't care about any of these people .",
    "The camera work is beautiful; the story is not.",
    "an honest , moving portrait of a small town .",
    "dull , slow and far too long for its own good .",
    "Who wrote the music for the film?",
    "How far is it from Denver to Aspen ?",
    "the cast seems to be having fun , and so do we .",
    "It's the best thing the director has made in years!",
    "a mess of clichés and borrowed ideas .",
    "two men are playing guitar on a stage",
    "A woman is slicing an onion in the kitchen.",
    "prices rose 2.5 percent in the third quarter .",
    "Nobody in the theater laughed once.",
]

SINGLES = [
    "a gripping, funny film.",
    "The plot is thin and the jokes fall flat .",
    "Café owners didn't like the Zebra's 123 unknownword!!",
    "sister\u00f0city  and  double   spaces ",
    "",
    "emoji 🎬 and tabs\there",
    "  leading spaces and UPPER CASE",
]
PAIRS = [
    ("two men are playing guitar", "A man is playing a guitar on stage ."),
    ("Who wrote it?", "nobody knows"),
    (
        "a very long first sentence with many many many words that goes on and on",
        "short second",
    ),
    ("", "only the second text"),
]
MAX_LENGTHS = [64, 8]


def cases(tokenizer, with_types):
    out = []
    for max_length in MAX_LENGTHS:
        for text in SINGLES:
            enc = tokenizer(text, truncation=True, max_length=max_length)
            out.append(case(text, None, max_length, enc, with_types))
        for text, pair in PAIRS:
            enc = tokenizer(text, pair, truncation="longest_first", max_length=max_length)
            out.append(case(text, pair, max_length, enc, with_types))
    return out


def case(text, pair, max_length, enc, with_types):
    ids = list(enc["input_ids"])
    types = list(enc["token_type_ids"]) if with_types else [0] * len(ids)
    return {
        "text": text,
        "text_pair": pair,
        "max_length": max_length,
        "input_ids": ids,
        "token_type_ids": types,
    }


def main():
    # --- RoBERTa-style byte-level BPE: <s>=0, <pad>=1, </s>=2, <unk>=3, <mask>=4.
    bpe_dir = OUT / "roberta-bpe"
    bpe_dir.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        CORPUS,
        vocab_size=420,
        min_frequency=2,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
    )
    bpe.save_model(str(bpe_dir))
    # from_pretrained on the folder, as a user loads a checkpoint's vocab.json + merges.txt.
    roberta = RobertaTokenizerFast.from_pretrained(str(bpe_dir))
    assert roberta.convert_tokens_to_ids(["<s>", "<pad>", "</s>"]) == [0, 1, 2]

    # The same tokenizer as tokenizer.json, with padding and truncation switched on in the file
    # (as all-MiniLM-L6-v2's is): the loader must switch them off.
    json_dir = OUT / "roberta-json"
    json_dir.mkdir(parents=True, exist_ok=True)
    backend = roberta.backend_tokenizer
    backend.enable_padding(length=32, pad_id=1, pad_token="<pad>")
    backend.enable_truncation(max_length=6)
    backend.save(str(json_dir / "tokenizer.json"))
    backend.no_padding()
    backend.no_truncation()

    # --- BERT-style WordPiece: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4, lowercase.
    wp_dir = OUT / "bert-wordpiece"
    wp_dir.mkdir(parents=True, exist_ok=True)
    wp = BertWordPieceTokenizer(lowercase=True)
    wp.train_from_iterator(
        CORPUS,
        vocab_size=300,
        min_frequency=1,
        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    )
    wp.save_model(str(wp_dir))
    bert = BertTokenizerFast.from_pretrained(str(wp_dir), do_lower_case=True)
    assert bert.convert_tokens_to_ids(["[PAD]", "[CLS]", "[SEP]"]) == [0, 2, 3]

    expected = {
        "generated_by": "scripts/make_tokenizer_fixtures.py",
        "transformers": __import__("transformers").__version__,
        "tokenizers": __import__("tokenizers").__version__,
        "roberta": cases(roberta, with_types=False),
        "bert": cases(bert, with_types=True),
    }
    with open(OUT / "expected.json", "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
