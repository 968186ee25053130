#!/usr/bin/python3
"""Writes a tiny GPT-2-style byte-level BPE tokenizer in the Hugging Face `tokenizers` JSON
format (tests/fixtures/models/tokenizer-tiny/) and its reference encodings
(tests/golden/tokenizer.json).

Run with /usr/bin/python3 (standard library only). Neither `tokenizers` nor `transformers`
is used: the training, the encoder and the decoder below are an independent reference written
from GPT-2's encoder.py (bytes_to_unicode, the pre-tokenization regex, bpe()) and the
`tokenizers` serialization format.

Fixture (tests/fixtures/models/tokenizer-tiny/)
* tokenizer.json, laid out as `tokenizers` saves it (keys in its order, indent 2, UTF-8):
  version "1.0", truncation/padding/normalizer null,
  added_tokens: one special token "<|endoftext|>" (the last, highest id; lstrip/rstrip/
  single_word false, normalized true, special true, as in gpt2's tokenizer.json);
  pre_tokenizer ByteLevel (add_prefix_space false, trim_offsets true, use_regex true);
  post_processor ByteLevel (adds no tokens); decoder ByteLevel;
  model BPE (dropout null, unk_token null, continuing_subword_prefix "", end_of_word_suffix "",
  fuse_unk false, byte_fallback false, ignore_merges false), vocab {token: id} in id order,
  merges as [left, right] pairs (the current format; older files wrote "left right" strings).
  Like gpt2's file, model.vocab also holds the special token.
* tokenizer_config.json: model_max_length 64, bos/eos/unk "<|endoftext|>",
  tokenizer_class "GPT2Tokenizer" (json indent 2, sorted keys).
* Vocabulary, ids dense 0..V-1, V <= VOCAB_SIZE (96, the tiny test models' vocab_size):
  - base symbols: the byte-level symbols (GPT-2 bytes_to_unicode) of the bytes of a-z, '.',
    ',', "'", '\\n' ("Ċ") and ' ' ("Ġ"), in GPT-2's byte order (the order of bytes_to_unicode's
    table: printable bytes by value, then the remapped ones, so "Ċ" and "Ġ" come last);
  - then one token per merge, in merge (rank) order;
  - then "<|endoftext|>".
* Merges: a tiny BPE training run on the built-in CORPUS (lines joined by "\\n"), pre-tokenized
  and byte-mapped as below; each step merges the most frequent adjacent pair (count >= 2,
  counted over the words weighted by frequency), ties broken by the pair's strings
  (lexicographically smallest first), all occurrences in every word. The run is fully
  deterministic (no randomness, so no seed is needed). It stops when the vocabulary
  (special token included) reaches VOCAB_SIZE or no pair occurs twice.

Reference encoder (tests/golden/tokenizer.json)
1. Added tokens are split out first (leftmost, longest match of "<|endoftext|>"); they map to
   their id and are not pre-tokenized. No special tokens are added (no BOS/EOS).
2. Each remaining piece is split with GPT-2's regex
     's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
   Python's `re` has no \\p{L}/\\p{N}; every text here is ASCII, so the ASCII classes
   [A-Za-z] and [0-9] are used instead (with re.ASCII, \\s = [ \\t\\n\\r\\f\\v]), which
   is equivalent on ASCII input (asserted: all texts are ASCII).
3. Each piece's UTF-8 bytes are mapped with bytes_to_unicode.
4. GPT-2's bpe(): repeatedly take the adjacent pair with the lowest merge rank and merge all
   of its (non-overlapping, left-to-right) occurrences, until no pair has a rank.
5. Tokens -> ids via the vocabulary (all cases use only covered characters; asserted).
Self-check: decoding ids (tokens joined, byte-level symbols mapped back to bytes, UTF-8
decoded; added tokens emitted as their content) gives each text back.
"""
import json
import os
import re

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
FIXTURE_DIR = os.path.join(ROOT, 'tests', 'fixtures', 'models', 'tokenizer-tiny')
OUT = os.path.join(ROOT, 'tests', 'golden', 'tokenizer.json')

VOCAB_SIZE = 96
SPECIAL = '<|endoftext|>'
CHARS = 'abcdefghijklmnopqrstuvwxyz' + ".,'" + '\n' + ' '

CORPUS = [
    'the cat sat on the mat.',
    'the dog sat on the rug.',
    'the cat saw the dog.',
    'the dog saw the cat, and the cat ran.',
    'a cat is not a dog.',
    'the dog ran to the park.',
    'the cat and the dog are friends.',
    "the cat's bed is on the mat.",
    "the dog's ball is in the park.",
    'a small cat sat in the sun.',
    'a big dog ran in the rain.',
    'the cat likes the warm sun.',
    'the dog likes the cold rain.',
    "it's a good day for the dog.",
    "the cat didn't like the bath.",
    'the dog and the cat ate their food.',
    'the cat slept on the bed, and the dog slept on the rug.',
    "we'll see the cat and the dog at the park.",
    "they're good friends, the cat and the dog.",
    'the end.',
]

CASES = [
    'the cat sat on the mat.',          # seen words
    ' the dog ran to the park',         # leading space
    'the  cat  and the dog',            # double spaces
    'a cat.\nthe dog.',                 # newline
    "the dog's ball, the cat's bed.",   # punctuation, 's contraction
    "we'll see, they're here.",         # 'll / 're contractions, unseen word
    'zebras quickly jump over foxes',   # words not seen in training
    'hello world  \n  bye  ',           # whitespace runs: \s+(?!\S) and trailing spaces
    '',                                 # empty string
    'the cat' + SPECIAL + ' the dog',   # special token written inside the text
]

# GPT-2's pattern with \p{L} -> A-Za-z and \p{N} -> 0-9 (ASCII-only inputs; see the docstring).
PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""",
                 re.ASCII)


def bytes_to_unicode():
    """GPT-2's table (encoder.py), as an ordered list of (byte, symbol)."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + \
        list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [(b, chr(c)) for b, c in zip(bs, cs)]


BYTE_TABLE = bytes_to_unicode()
BYTE_ENCODER = dict(BYTE_TABLE)
BYTE_DECODER = {c: b for b, c in BYTE_TABLE}
assert len(BYTE_ENCODER) == 256 and len(BYTE_DECODER) == 256
assert BYTE_ENCODER[ord(' ')] == 'Ġ' and BYTE_ENCODER[ord('\n')] == 'Ċ'


def pre_tokenize(text):
    assert text.isascii(), text
    return [''.join(BYTE_ENCODER[b] for b in piece.encode('utf-8')) for piece in PAT.findall(text)]


def merge_word(word, pair):
    """Merges all non-overlapping occurrences of pair in word (a tuple of symbols), left to right."""
    out, i = [], 0
    while i < len(word):
        if i < len(word) - 1 and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def train():
    """Returns (vocab list in id order without the special token, merges list of pairs)."""
    base_bytes = set(CHARS.encode('utf-8'))
    vocab = [c for b, c in BYTE_TABLE if b in base_bytes]
    assert len(vocab) == len(base_bytes) == 31
    words = {}
    for piece in pre_tokenize('\n'.join(CORPUS)):
        w = tuple(piece)
        words[w] = words.get(w, 0) + 1
    merges, known = [], set(vocab)
    while len(vocab) + 1 < VOCAB_SIZE:
        counts = {}
        for w, f in words.items():
            for p in zip(w, w[1:]):
                counts[p] = counts.get(p, 0) + f
        if not counts:
            break
        best = min(counts, key=lambda p: (-counts[p], p))
        if counts[best] < 2:
            break
        merges.append(best)
        tok = best[0] + best[1]
        if tok not in known:   # (a token reachable by two merges gets one id, as in `tokenizers`)
            known.add(tok)
            vocab.append(tok)
        words = {merge_word(w, best): f for w, f in words.items()}
    return vocab, merges


def bpe(token, ranks):
    """GPT-2's bpe(): lowest-rank pair first, all its occurrences per step."""
    word = tuple(token)
    while len(word) > 1:
        pairs = set(zip(word, word[1:]))
        best = min(pairs, key=lambda p: ranks.get(p, float('inf')))
        if best not in ranks:
            break
        word = merge_word(word, best)
    return list(word)


def split_added(text):
    """Splits out SPECIAL (leftmost, longest; a single added token here)."""
    parts = []
    while True:
        i = text.find(SPECIAL)
        if i < 0:
            break
        if i > 0:
            parts.append(text[:i])
        parts.append(SPECIAL)
        text = text[i + len(SPECIAL):]
    if text:
        parts.append(text)
    return parts


def encode(text, vocab_ids, ranks):
    tokens = []
    for part in split_added(text):
        if part == SPECIAL:
            tokens.append(SPECIAL)
            continue
        for piece in pre_tokenize(part):
            tokens.extend(bpe(piece, ranks))
    for t in tokens:
        assert t in vocab_ids, (text, t)
    return [vocab_ids[t] for t in tokens], tokens


def decode(ids, id_to_token):
    out, buf = [], []

    def flush():
        if buf:
            out.append(bytes(BYTE_DECODER[c] for c in ''.join(buf)).decode('utf-8'))
            buf.clear()
    for i in ids:
        t = id_to_token[i]
        if t == SPECIAL:
            flush()
            out.append(t)
        else:
            buf.append(t)
    flush()
    return ''.join(out)


def tokenizer_json(vocab, merges, special_id):
    added = {'id': special_id, 'content': SPECIAL, 'single_word': False, 'lstrip': False,
             'rstrip': False, 'normalized': True, 'special': True}
    model_vocab = {t: i for i, t in enumerate(vocab)}
    model_vocab[SPECIAL] = special_id
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': [added],
        'normalizer': None,
        'pre_tokenizer': {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True,
                          'use_regex': True},
        'post_processor': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False,
                           'use_regex': True},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True,
                    'use_regex': True},
        'model': {
            'type': 'BPE',
            'dropout': None,
            'unk_token': None,
            'continuing_subword_prefix': '',
            'end_of_word_suffix': '',
            'fuse_unk': False,
            'byte_fallback': False,
            'ignore_merges': False,
            'vocab': model_vocab,
            'merges': [list(m) for m in merges],
        },
    }


TOKENIZER_CONFIG = {
    'model_max_length': 64,
    'bos_token': SPECIAL,
    'eos_token': SPECIAL,
    'unk_token': SPECIAL,
    'tokenizer_class': 'GPT2Tokenizer',
}


def main():
    vocab, merges = train()
    special_id = len(vocab)
    V = special_id + 1
    assert V <= VOCAB_SIZE, V
    vocab_ids = {t: i for i, t in enumerate(vocab)}
    vocab_ids[SPECIAL] = special_id
    assert len(vocab_ids) == V  # dense, unique
    id_to_token = {i: t for t, i in vocab_ids.items()}
    assert sorted(id_to_token) == list(range(V))
    ranks = {m: r for r, m in enumerate(merges)}
    assert len(ranks) == len(merges)
    for a, b in merges:  # every merge's parts and result are in the vocabulary
        assert a in vocab_ids and b in vocab_ids and a + b in vocab_ids, (a, b)
    assert set(vocab[31:]) == {a + b for a, b in merges}

    # reference sanity: GPT-2's regex splits as expected on known inputs
    assert PAT.findall("the  cat's\n  x  ") == ['the', ' ', ' cat', "'s", '\n ', ' x', '  ']
    assert pre_tokenize(' a\n') == ['Ġa', 'Ċ']

    cases = []
    for text in CASES:
        ids, tokens = encode(text, vocab_ids, ranks)
        assert decode(ids, id_to_token) == text, (text, ids)
        assert (ids == []) == (text == '')
        cases.append({'text': text, 'ids': ids, 'tokens': tokens})
    assert any(SPECIAL in c['text'] and special_id in c['ids'] for c in cases)
    assert any(len(t) > 1 for c in cases for t in c['tokens'])  # merges do happen

    os.makedirs(FIXTURE_DIR, exist_ok=True)
    tj = tokenizer_json(vocab, merges, special_id)
    p_tok = os.path.join(FIXTURE_DIR, 'tokenizer.json')
    with open(p_tok, 'w', encoding='utf-8') as f:
        f.write(json.dumps(tj, indent=2, ensure_ascii=False) + '\n')
    p_cfg = os.path.join(FIXTURE_DIR, 'tokenizer_config.json')
    with open(p_cfg, 'w', encoding='utf-8') as f:
        f.write(json.dumps(TOKENIZER_CONFIG, indent=2, sort_keys=True) + '\n')
    golden = {'generator': 'scripts/make_tokenizer_fixture.py', 'vocab_size': V,
              'special_token': {'content': SPECIAL, 'id': special_id}, 'cases': cases}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, 'w', encoding='utf-8') as f:
        f.write(json.dumps(golden, ensure_ascii=False) + '\n')
    for p, obj in ((p_tok, tj), (p_cfg, TOKENIZER_CONFIG), (OUT, golden)):
        with open(p, encoding='utf-8') as f:
            assert json.load(f) == obj
    print(f'vocab size {V} ({len(vocab) - 31} merged tokens, {len(merges)} merges, special id {special_id})')
    print('merges:', ' '.join(a + '+' + b for a, b in merges))
    for c in cases:
        print(f'  {c["text"]!r}: {c["tokens"]}')
    for p in (p_tok, p_cfg, OUT):
        print(f'wrote {os.path.relpath(p, ROOT)} ({os.path.getsize(p)} bytes)')


if __name__ == '__main__':
    main()
