"""API representations. Amounts are decimal strings of integer base units, never floats."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from data_collection.fields import UINT256_MAX
from data_collection.models import CHAIN_CHOICES
from transaction_tracking import validation as v
from transaction_tracking.models import (
    Alert,
    Annotation,
    Case,
    CaseMember,
    Seed,
    StolenAmount,
    TraceEndpoint,
    TraceRun,
    TransactionChain,
    WatchlistEntry,
)

MODELS = ("poison", "haircut", "fifo", "lifo", "tiho")
DIRECTIONS = ("forward", "backward")
AMOUNT_SCHEMA = {
    "type": "string",
    "pattern": "^[0-9]{1,78}$",
    "description": "integer amount in base units (satoshi, wei, lamport, token base units)",
}
SIGNED_AMOUNT_SCHEMA = {
    "type": "string",
    "pattern": "^-?[0-9]{1,78}$",
    "description": "signed integer amount in base units",
}


@extend_schema_field(AMOUNT_SCHEMA)
class AmountField(serializers.Field):
    """Exact uint256 amount; JSON numbers are refused for writes (they lose precision)."""

    default_error_messages = {
        "invalid": 'an amount is a decimal string of base units, e.g. "1500000"',
        "range": "the amount must be between 0 and 2**256-1",
    }

    def to_representation(self, value: Any) -> str:
        return str(int(value))

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        text = str(data).strip()
        if not text.isascii() or not text.isdigit() or len(text) > 78:
            self.fail("invalid")
        value = int(text)
        if value > UINT256_MAX:
            self.fail("range")
        return value


@extend_schema_field(SIGNED_AMOUNT_SCHEMA)
class SignedAmountField(serializers.Field):
    def to_representation(self, value: Any) -> str:
        return str(int(value))

    def to_internal_value(self, data: Any) -> int:  # pragma: no cover - read-only use
        raise serializers.ValidationError("read-only")


def _checked(check: Any, field: str, *args: Any) -> str:
    try:
        return check(*args)
    except ValueError as exc:
        raise serializers.ValidationError({field: [str(exc)]}) from None


def _chain_of(serializer: serializers.Serializer, attrs: dict[str, Any]) -> str:
    chain = attrs.get("chain", getattr(serializer.instance, "chain", None))
    return v.check_chain(chain)


ChainField = lambda **kw: serializers.ChoiceField(choices=CHAIN_CHOICES, **kw)  # noqa: E731


class StolenAmountSerializer(serializers.ModelSerializer):
    chain = ChainField()
    amount = AmountField()
    asset = serializers.CharField(max_length=64, required=False, default="native")
    decimals = serializers.IntegerField(min_value=0, max_value=78, required=False, allow_null=True)

    class Meta:
        model = StolenAmount
        fields = ["id", "chain", "asset", "amount", "decimals"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        chain = _chain_of(self, attrs)
        if "asset" in attrs or self.instance is None:
            attrs["asset"] = _checked(v.check_asset, "asset", chain, attrs.get("asset", "native"))
        return attrs


class CaseSerializer(serializers.ModelSerializer):
    chains = serializers.ListField(
        child=serializers.ChoiceField(choices=CHAIN_CHOICES), required=False, max_length=3
    )
    owner = serializers.CharField(source="owner.username", read_only=True)
    my_role = serializers.SerializerMethodField()
    stolen_amounts = StolenAmountSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = [
            "id",
            "title",
            "description",
            "incident_time",
            "status",
            "chains",
            "owner",
            "my_role",
            "stolen_amounts",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_my_role(self, obj: Case) -> str | None:
        roles = self.context.get("roles") or {}
        request = self.context.get("request")
        if request is not None and obj.owner_id == request.user.pk:
            return "owner"
        return roles.get(obj.pk)

    def validate_chains(self, value: list[str]) -> list[str]:
        return sorted(set(value), key=v.CHAINS.index)


class CaseMemberSerializer(serializers.ModelSerializer):
    username = serializers.CharField(max_length=150, write_only=False)
    role = serializers.ChoiceField(
        choices=[CaseMember.Role.INVESTIGATOR, CaseMember.Role.VIEWER],
        help_text="the owner's membership is created with the case and cannot be assigned",
    )

    class Meta:
        model = CaseMember
        fields = ["id", "username", "role", "added_at"]
        read_only_fields = ["added_at"]

    def to_representation(self, instance: CaseMember) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "username": instance.user.username,
            "role": instance.role,
            "added_at": serializers.DateTimeField().to_representation(instance.added_at),
        }

    def validate_username(self, value: str) -> str:
        if self.instance is not None and value != self.instance.user.username:
            raise serializers.ValidationError("a membership's user cannot be changed")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        case = self.context["case"]
        if self.instance is None:
            user = get_user_model().objects.filter(username=attrs["username"]).first()
            if user is None or not user.is_active:
                raise serializers.ValidationError({"username": ["no such active user"]})
            if user.pk == case.owner_id:
                raise serializers.ValidationError({"username": ["that user owns the case"]})
            if CaseMember.objects.filter(case=case, user=user).exists():
                raise serializers.ValidationError({"username": ["already a member"]})
            attrs["user"] = user
        elif self.instance.role == CaseMember.Role.OWNER:
            raise serializers.ValidationError({"role": ["the owner's role cannot be changed"]})
        attrs.pop("username", None)
        return attrs


class SeedSerializer(serializers.ModelSerializer):
    chain = ChainField()
    value = serializers.CharField(
        max_length=200,
        help_text="tx: a transaction hash; address: an address; output: HASH:INDEX",
    )

    class Meta:
        model = Seed
        fields = ["id", "chain", "kind", "value", "note", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        chain = _chain_of(self, attrs)
        kind = attrs.get("kind", getattr(self.instance, "kind", None))
        value = attrs.get("value", getattr(self.instance, "value", ""))
        check = {"tx": v.check_tx_hash, "address": v.check_address, "output": v.check_ref}[kind]
        attrs["value"] = _checked(check, "value", chain, value)
        case = self.context["case"]
        clash = Seed.objects.filter(case=case, chain=chain, kind=kind, value=attrs["value"])
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"value": ["this seed is already in the case"]})
        return attrs


class RunCreateSerializer(serializers.Serializer):
    chain = ChainField()
    model = serializers.ChoiceField(
        choices=MODELS, help_text="poison, haircut, fifo, lifo; tiho only on btc"
    )
    direction = serializers.ChoiceField(choices=DIRECTIONS, default="forward")
    sources = serializers.ListField(
        child=serializers.CharField(max_length=200),
        min_length=1,
        max_length=1000,
        help_text="HASH:INDEX references or transaction hashes; addresses when backward",
    )
    max_hops = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    min_amount = AmountField(required=False)
    asset = serializers.CharField(max_length=64, required=False)
    through = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=20,
        help_text="entity categories to trace through, e.g. bridge",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        chain = attrs["chain"]
        if attrs["model"] == "tiho" and chain != "btc":
            raise serializers.ValidationError({"model": ["tiho is defined only for btc (UTXO)"]})
        errors: list[str] = []
        sources: list[str] = []
        addresses: list[str] = []
        for i, text in enumerate(attrs["sources"]):
            try:
                kind, value = v.classify_source(chain, text)
            except ValueError as exc:
                errors.append(f"[{i}] {exc}")
                continue
            if kind == "address" and attrs["direction"] != "backward":
                errors.append(
                    f"[{i}] an address is a source only for backward tracing; forward tracing "
                    "starts from HASH:INDEX or a transaction hash"
                )
            (addresses if kind == "address" else sources).append(value)
        if errors:
            raise serializers.ValidationError({"sources": errors})
        attrs["sources"] = list(dict.fromkeys(sources))
        attrs["address_sources"] = list(dict.fromkeys(addresses))
        if "asset" in attrs:
            attrs["asset"] = _checked(v.check_asset, "asset", chain, attrs["asset"])
        through = []
        for i, text in enumerate(attrs.get("through", [])):
            try:
                through.append(v.check_category(text))
            except ValueError as exc:
                raise serializers.ValidationError({"through": [f"[{i}] {exc}"]}) from None
        attrs["through"] = through
        return attrs

    def parameters(self) -> dict[str, Any]:
        """The validated parameters as stored on the run (JSON, amounts as strings)."""
        d = self.validated_data
        params: dict[str, Any] = {
            "chain": d["chain"],
            "model": d["model"],
            "direction": d["direction"],
            "sources": d["sources"],
            "address_sources": d["address_sources"],
            "through": d["through"],
            "max_hops": d.get("max_hops"),
            "min_amount": None if d.get("min_amount") is None else str(d["min_amount"]),
            "asset": d.get("asset"),
        }
        return params


class TraceRunListSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = TraceRun
        fields = [
            "id",
            "case",
            "chain",
            "asset",
            "model",
            "direction",
            "parameters",
            "data_snapshot",
            "status",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "duration_ms",
        ]
        read_only_fields = fields


class TraceRunSerializer(TraceRunListSerializer):
    result = serializers.JSONField(
        read_only=True, allow_null=True, help_text="the tracing engine's result document"
    )

    class Meta(TraceRunListSerializer.Meta):
        fields = [*TraceRunListSerializer.Meta.fields, "result"]
        read_only_fields = fields


class FlowSerializer(serializers.ModelSerializer):
    amount = AmountField(read_only=True)

    class Meta:
        model = TransactionChain
        fields = ["id", "hop", "tx_hash", "index", "from_address", "to_address", "amount", "asset"]
        read_only_fields = fields


class EndpointSerializer(serializers.ModelSerializer):
    amount = AmountField(read_only=True)

    class Meta:
        model = TraceEndpoint
        fields = ["id", "address", "entity", "category", "kind", "amount"]
        read_only_fields = fields


class CompareRowSerializer(serializers.Serializer):
    address = serializers.CharField()
    entity = serializers.CharField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    kinds = serializers.ListField(child=serializers.CharField())
    amount_a = AmountField()
    amount_b = AmountField()
    delta = SignedAmountField()


class CompareSerializer(serializers.Serializer):
    run_a = serializers.IntegerField()
    run_b = serializers.IntegerField()
    rows = CompareRowSerializer(many=True)


TAG = serializers.RegexField(r"^[^\x00-\x1f]{1,64}$", max_length=64)


class AnnotationSerializer(serializers.ModelSerializer):
    chain = ChainField()
    target = serializers.CharField(max_length=200, help_text="an address or a transaction hash")
    tags = serializers.ListField(child=TAG, required=False, max_length=50)
    author = serializers.CharField(source="author.username", read_only=True)

    class Meta:
        model = Annotation
        fields = [
            "id",
            "chain",
            "target_kind",
            "target",
            "text",
            "tags",
            "author",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        chain = _chain_of(self, attrs)
        kind = attrs.get("target_kind", getattr(self.instance, "target_kind", None))
        target = attrs.get("target", getattr(self.instance, "target", ""))
        check = v.check_address if kind == "address" else v.check_tx_hash
        attrs["target"] = _checked(check, "target", chain, target)
        if "tags" in attrs:
            attrs["tags"] = list(dict.fromkeys(t.strip() for t in attrs["tags"] if t.strip()))
        return attrs


class WatchlistEntrySerializer(serializers.ModelSerializer):
    chain = ChainField()
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = WatchlistEntry
        fields = ["id", "chain", "address", "reason", "active", "created_by", "created_at"]
        read_only_fields = ["created_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        chain = _chain_of(self, attrs)
        address = attrs.get("address", getattr(self.instance, "address", ""))
        attrs["address"] = _checked(v.check_address, "address", chain, address)
        clash = WatchlistEntry.objects.filter(
            case=self.context["case"], chain=chain, address=attrs["address"]
        )
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError({"address": ["already on this case's watchlist"]})
        return attrs


class AlertSerializer(serializers.ModelSerializer):
    case = serializers.IntegerField(source="watchlist_entry.case_id", read_only=True)
    address = serializers.CharField(source="watchlist_entry.address", read_only=True)
    amount = AmountField(read_only=True, allow_null=True)
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", read_only=True, allow_null=True
    )

    class Meta:
        model = Alert
        fields = [
            "id",
            "case",
            "watchlist_entry",
            "address",
            "chain",
            "tx_hash",
            "amount",
            "asset",
            "created_at",
            "acknowledged",
            "acknowledged_by",
            "acknowledged_at",
        ]
        read_only_fields = fields


# --- stored chain data (read-only documentation shapes) -------------------------------------


class BalanceSerializer(serializers.Serializer):
    asset = serializers.CharField()
    decimals = serializers.IntegerField(allow_null=True, help_text="null: token not described")
    received = AmountField()
    sent = AmountField()
    fees = AmountField()
    balance = SignedAmountField()


class MovementSerializer(serializers.Serializer):
    tx = serializers.CharField()
    block_number = serializers.IntegerField(allow_null=True)
    timestamp = serializers.DateTimeField(allow_null=True)
    direction = serializers.ChoiceField(choices=["in", "out", "fee"])
    kind = serializers.CharField()
    index = serializers.IntegerField(allow_null=True)
    asset = serializers.CharField()
    amount = AmountField()
    counterparty = serializers.CharField(allow_null=True)


class AddressLabelSerializer(serializers.Serializer):
    entity = serializers.CharField()
    category = serializers.CharField()
    source = serializers.CharField()
    confidence = serializers.IntegerField()
    valid = serializers.BooleanField()
    case = serializers.IntegerField(allow_null=True, help_text="null = shared label")


class AddressHistorySerializer(serializers.Serializer):
    chain = serializers.CharField()
    address = serializers.CharField()
    labels = AddressLabelSerializer(
        many=True, help_text="direct labels you may see; the entities endpoint adds clusters"
    )
    balances = BalanceSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())
    count = serializers.IntegerField()
    movements = MovementSerializer(many=True)


class EntityLabelSerializer(serializers.Serializer):
    address = serializers.CharField(help_text="the labeled address (a cluster member)")
    entity = serializers.CharField()
    category = serializers.CharField()
    source = serializers.CharField()
    confidence = serializers.IntegerField()
    case_id = serializers.CharField(allow_null=True)
    valid = serializers.BooleanField()
    inherited = serializers.BooleanField(help_text="true when it comes through the cluster")
    evidence = serializers.ListField(child=serializers.DictField(), help_text="links a..b")


class ClusterLinkSerializer(serializers.Serializer):
    a = serializers.CharField()
    b = serializers.CharField()
    heuristic = serializers.CharField()
    confidence = serializers.IntegerField()
    txs = serializers.ListField(child=serializers.CharField())


class EntitySerializer(serializers.Serializer):
    address = serializers.CharField()
    cluster_id = serializers.IntegerField(allow_null=True)
    size = serializers.IntegerField(help_text="addresses in the cluster")
    addresses = serializers.ListField(child=serializers.CharField())
    labels = EntityLabelSerializer(many=True)
    links = ClusterLinkSerializer(many=True, help_text="heuristic links with their transactions")
    conflicts = serializers.ListField(child=serializers.DictField())


class _RenamedFields(serializers.Serializer):
    """Serializer whose JSON keys include Python keywords (``from``): ``from_`` is ``from``."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {k.rstrip("_"): f for k, f in super().get_fields().items()}


class StoredOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    address = serializers.CharField(allow_null=True)
    value = AmountField()
    script_type = serializers.CharField()
    spent_by = serializers.CharField(allow_null=True, help_text="txid:input index")


class StoredInputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    txid = serializers.CharField(
        allow_null=True, help_text="the spent output's tx (null: coinbase)"
    )
    vout = serializers.IntegerField(allow_null=True)
    address = serializers.CharField(allow_null=True)
    value = AmountField(allow_null=True, help_text="null until the funding tx is stored")


class StoredTransferSerializer(_RenamedFields):
    index = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["native", "token", "internal"])
    asset = serializers.CharField()
    from_ = serializers.CharField(allow_null=True)
    to = serializers.CharField(allow_null=True)
    amount = AmountField()
    trace_address = serializers.CharField(allow_null=True)


class StoredTransactionSerializer(_RenamedFields):
    """Bitcoin carries is_coinbase/inputs/outputs; Ethereum and Solana from/to/transfers."""

    chain = serializers.CharField()
    hash = serializers.CharField()
    block_number = serializers.IntegerField(allow_null=True)
    block_hash = serializers.CharField(allow_null=True)
    tx_index = serializers.IntegerField(allow_null=True)
    timestamp = serializers.DateTimeField(allow_null=True)
    fee = AmountField(allow_null=True)
    status = serializers.ChoiceField(choices=["success", "failed"])
    is_coinbase = serializers.BooleanField(required=False)
    inputs = StoredInputSerializer(many=True, required=False)
    outputs = StoredOutputSerializer(many=True, required=False)
    from_ = serializers.CharField(allow_null=True, required=False)
    to = serializers.CharField(allow_null=True, required=False)
    transfers = StoredTransferSerializer(many=True, required=False)


class ExportSerializer(serializers.Serializer):
    format = serializers.CharField()
    exported_at = serializers.DateTimeField()
    exported_by = serializers.CharField()
    case = serializers.DictField()
    members = serializers.ListField(child=serializers.DictField())
    seeds = serializers.ListField(child=serializers.DictField())
    runs = serializers.ListField(child=serializers.DictField())
    annotations = serializers.ListField(child=serializers.DictField())
    watchlist = serializers.ListField(child=serializers.DictField())
