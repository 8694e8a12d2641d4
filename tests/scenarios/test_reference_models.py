"""The reference taint models on hand-computed cases (figures worked out on paper)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from fundtrace.core.model import (
    NATIVE,
    Chain,
    Transaction,
    Transfer,
    TransferKind,
    TxInput,
    TxOutput,
)
from fundtrace.scenarios.taint_account import account_taint
from fundtrace.scenarios.taint_utxo import apportion, utxo_taint


def btx(
    h: str, block: int, ins: list[tuple[str, int, int]], outs: list[tuple[str, int]]
) -> Transaction:
    tx = Transaction(Chain.BTC, h, block, tx_index=0)
    tx.inputs = [TxInput(j, t, v, val, f"in{j}") for j, (t, v, val) in enumerate(ins)]
    tx.outputs = [TxOutput(k, v, "witness_v0_keyhash", a) for k, (a, v) in enumerate(outs)]
    return tx


# A: source output a:0 = 60, plus a clean b:0 = 40 spent together; outputs x=70, y=25, fee 5.
A = btx("a", 1, [("z", 0, 60)], [("thief", 60)])
B = btx("b", 1, [("z", 1, 40)], [("clean", 40)])
C = btx("c", 2, [("a", 0, 60), ("b", 0, 40)], [("x", 70), ("y", 25)])


def test_utxo_haircut_largest_remainder():
    # taint 60 over weights 70, 25, fee 5 of 100: 42, 15, 3 exactly
    f = utxo_taint([A, B, C], ["a:0"], model="haircut")
    assert f.held == {"x": 42, "y": 15} and f.fees == 3 and f.source_total == 60
    # 5 over three equal weights: floors 1, 1, 1; two units left go to indexes 0 and 1
    assert apportion(5, [1, 1, 1], 3) == [2, 2, 1]
    # 7 * (5, 3) / 8: floors 4, 2 (remainders 3, 5): the unit goes to the larger remainder
    assert apportion(7, [5, 3], 8) == [4, 3]
    assert apportion(7, [1, 1, 1], 3) == [3, 2, 2]  # ties: lower index first


def test_utxo_fifo_lifo_tiho_poison():
    fifo = utxo_taint([A, B, C], ["a:0"], model="fifo")
    assert fifo.held == {"x": 60} and fifo.fees == 0  # tainted sats 0..60 fill x first
    lifo = utxo_taint([A, B, C], ["a:0"], model="lifo")
    # reversed: clean 40 first, tainted 40..100: x gets 30, y 25, fee 5
    assert lifo.held == {"x": 30, "y": 25} and lifo.fees == 5
    tiho = utxo_taint([A, B, C], ["a:0"], model="tiho")
    assert tiho.held == {"x": 60} and tiho.fees == 0
    poison = utxo_taint([A, B, C], ["a:0"], model="poison")
    assert poison.held == {"x": 70, "y": 25} and poison.fees == 5


def test_utxo_stop_at_labeled_address():
    f = utxo_taint([A, B, C], ["a:0"], model="haircut", stop={"y"})
    assert f.endpoints == {"y": 15} and f.held == {"x": 42}


def ttx(
    h: str,
    block: int,
    moves: list[tuple[str | None, str | None, int]],
    fee: int = 0,
    payer: str | None = None,
) -> Transaction:
    tx = Transaction(Chain.ETH, h, block, tx_index=0, fee=fee, fee_payer=payer)
    tx.transfers = [
        Transfer(i, TransferKind.TOKEN, "tok", f, t, a) for i, (f, t, a) in enumerate(moves)
    ]
    return tx


def test_account_haircut_floor_and_lots():
    txs = [
        ttx("h1", 1, [(None, "w", 30)]),  # clean 30 first
        ttx("h2", 2, [("v", "w", 70)]),  # source: 70 tainted
        ttx("h3", 3, [("w", "ex", 33)]),  # outflow of 33 from balance 100 holding 70
    ]
    hc = account_taint(txs, "tok", ["h2:0"], model="haircut", stop={"ex"})
    assert hc.endpoints == {"ex": 23} and hc.held == {"w": 47}  # floor(33*70/100) = 23
    fifo = account_taint(txs, "tok", ["h2:0"], model="fifo", stop={"ex"})
    assert fifo.endpoints == {"ex": 3} and fifo.held == {"w": 67}  # oldest 30 clean first
    lifo = account_taint(txs, "tok", ["h2:0"], model="lifo", stop={"ex"})
    assert lifo.endpoints == {"ex": 33} and lifo.held == {"w": 37}
    poison = account_taint(txs, "tok", ["h2:0"], model="poison", stop={"ex"})
    assert poison.endpoints == {"ex": 33}


def test_account_native_fee_carries_taint():
    tx1 = Transaction(Chain.ETH, "n1", 1, tx_index=0, fee=0, fee_payer="v")
    tx1.transfers = [Transfer(0, TransferKind.NATIVE, NATIVE, "v", "w", 100)]
    tx2 = Transaction(Chain.ETH, "n2", 2, tx_index=0, fee=10, fee_payer="w")
    tx2.transfers = [Transfer(0, TransferKind.NATIVE, NATIVE, "w", "m", 90)]
    f = account_taint([tx1, tx2], NATIVE, ["n1:0"], model="haircut", stop={"m"})
    assert f.fees == 10 and f.endpoints == {"m": 90} and f.accounted() == 100


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(1, 1000)),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["haircut", "fifo", "lifo"]),
)
def test_account_models_conserve(moves, model):
    names = ["s", "a", "b", "c", "x"]
    txs = [ttx("src", 0, [("v", "a", 5000)])]
    txs += [ttx(f"t{i}", i + 1, [(names[f], names[t], amt)]) for i, (f, t, amt) in enumerate(moves)]
    fig = account_taint(txs, "tok", ["src:0"], model=model, stop={"x"})
    assert fig.accounted() == fig.source_total == 5000
    assert all(v > 0 for v in fig.held.values())
