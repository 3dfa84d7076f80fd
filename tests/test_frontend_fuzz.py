"""Fuzzing the front end: whatever the text, only NasError comes out of parse/load_text/convert,
and whatever parses formats back to the same AST."""
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasdsl.errors import NasError
from nasdsl.lang.convert import from_darts, from_tfslim
from nasdsl.lang.fmt import format_module
from nasdsl.lang.load import load_text
from nasdsl.lang.parse import parse

ROOT = Path(__file__).resolve().parent.parent
ZOO_TEXTS = [p.read_text() for p in sorted((ROOT / "nasdsl" / "zoo").glob("*.nas"))]
TOKEN = re.compile(r'\s+|#[^\n]*|"[^"\n]*"|[A-Za-z_][A-Za-z0-9_]*|[0-9.eE+-]+|.', re.DOTALL)
EXTRA = ["@", "{", "}", "(", ")", "=", ",", ":", "+", '"x.nas"', '"/"', '""', "1e999", "0", "4.5",
         "import", "cell", "network", "space", "out", "unused", "blocks", "true", "h0", "h1", "#",
         "\n", "\x00", "9" * 40, "é", "\t", "'", "concat", "add", "normal", "nasnet_a_normal"]


def fuzz(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck))


def check_text(text: str) -> None:
    """parse and load_text raise nothing but NasError; what parses round-trips through format."""
    try:
        module = parse(text, "<fuzz>")
    except NasError as e:
        assert e.diagnostics and e.render()
        return
    out = format_module(module)
    assert parse(out) == module, out
    try:
        program = load_text(text, "<fuzz>")
    except NasError as e:
        assert e.diagnostics and e.render()
        return
    for name in program.networks:
        program.network_spec(name)
    for name in program.spaces:
        program.space_spec(name)


@st.composite
def mutated_zoo(draw):
    tokens = TOKEN.findall(draw(st.sampled_from(ZOO_TEXTS)))
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(tokens) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "replace", "insert"]))
        if op == "delete" and len(tokens) > 1:
            del tokens[i]
        elif op == "duplicate":
            tokens.insert(i, tokens[i])
        elif op == "swap":
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "replace":
            tokens[i] = draw(st.sampled_from(EXTRA + tokens))
        else:
            tokens.insert(i, draw(st.sampled_from(EXTRA)))
    return "".join(tokens)


@fuzz(400)
@given(st.binary(max_size=400))
def test_random_bytes(data):
    check_text(data.decode("utf-8", errors="replace"))


@fuzz(400)
@given(st.text(alphabet=sorted(set('cellnetworkspaceimportoutb0h1=+(),{}@:#"\n .0123456789sep3x_')),
               max_size=200))
def test_random_dsl_alphabet(text):
    check_text(text)


@fuzz(1500)
@given(mutated_zoo())
def test_mutated_zoo_files(text):
    check_text(text)


GENOTYPE = ("DARTS_V2 = Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), "
            "('dil_conv_3x3', 2)], normal_concat=range(2, 4), reduce=[('max_pool_3x3', 0), "
            "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3])\n"
            "operations = ['separable_5x5_2', 'none']\nhiddenstate_indices = [0, 1]\n"
            "used_hiddenstates = [1, 1, 0]\n")


@fuzz(600)
@given(st.data())
def test_mutated_genotypes(data):
    tokens = TOKEN.findall(GENOTYPE)
    for _ in range(data.draw(st.integers(1, 5))):
        i = data.draw(st.integers(0, len(tokens) - 1))
        pick = data.draw(st.sampled_from(["(", ")", "[", "]", ",", "=", "0", "9", "'x'", "None", "range",
                                          "Genotype", "", "-", "\n", "7" * 30, *tokens]))
        tokens[i] = pick
    text = "".join(tokens)
    for convert in (from_darts, from_tfslim):
        try:
            module = convert(text)
        except NasError as e:
            assert e.render()
            continue
        assert parse(format_module(module)) == module
