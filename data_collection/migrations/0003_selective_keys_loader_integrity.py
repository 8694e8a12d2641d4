"""Bulk-load layout (issue #4: >= 100k rows/s into PostgreSQL).

* Unique keys and address indexes put the selective column first (hash/address, then chain):
  same lookups, cheaper comparisons on every index insert.
* Outputs, inputs and transfers keep their relations but drop the database foreign-key
  constraints: integrity is enforced by the loader by construction (see the models' docstring);
  the per-row checks were a quarter of the load time.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("data_collection", "0002_collectioncheckpoint"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="blockchaintransaction",
            name="tx_chain_hash_uniq",
        ),
        migrations.RemoveConstraint(
            model_name="transfer",
            name="transfer_key_uniq",
        ),
        migrations.RemoveConstraint(
            model_name="txinput",
            name="input_key_uniq",
        ),
        migrations.RemoveConstraint(
            model_name="txinput",
            name="input_spends_once_uniq",
        ),
        migrations.RemoveConstraint(
            model_name="txoutput",
            name="output_key_uniq",
        ),
        migrations.RemoveIndex(
            model_name="blockchaintransaction",
            name="tx_from_idx",
        ),
        migrations.RemoveIndex(
            model_name="transfer",
            name="transfer_from_idx",
        ),
        migrations.RemoveIndex(
            model_name="transfer",
            name="transfer_to_idx",
        ),
        migrations.RemoveIndex(
            model_name="txinput",
            name="input_addr_idx",
        ),
        migrations.RemoveIndex(
            model_name="txoutput",
            name="output_addr_idx",
        ),
        migrations.AlterField(
            model_name="transfer",
            name="transaction",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="transfers",
                to="data_collection.blockchaintransaction",
            ),
        ),
        migrations.AlterField(
            model_name="txinput",
            name="spent_output",
            field=models.OneToOneField(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="spent_by",
                to="data_collection.txoutput",
            ),
        ),
        migrations.AlterField(
            model_name="txinput",
            name="transaction",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="inputs",
                to="data_collection.blockchaintransaction",
            ),
        ),
        migrations.AlterField(
            model_name="txoutput",
            name="transaction",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="outputs",
                to="data_collection.blockchaintransaction",
            ),
        ),
        migrations.AddIndex(
            model_name="blockchaintransaction",
            index=models.Index(fields=["from_address", "blockchain_network"], name="tx_from_idx"),
        ),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(fields=["from_address", "chain"], name="transfer_from_idx"),
        ),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(fields=["to_address", "chain"], name="transfer_to_idx"),
        ),
        migrations.AddIndex(
            model_name="txinput",
            index=models.Index(fields=["address", "chain"], name="input_addr_idx"),
        ),
        migrations.AddIndex(
            model_name="txoutput",
            index=models.Index(fields=["address", "chain"], name="output_addr_idx"),
        ),
        migrations.AddConstraint(
            model_name="blockchaintransaction",
            constraint=models.UniqueConstraint(
                fields=("transaction_hash", "blockchain_network"), name="tx_chain_hash_uniq"
            ),
        ),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.UniqueConstraint(
                fields=("tx_hash", "kind", "index", "chain"), name="transfer_key_uniq"
            ),
        ),
        migrations.AddConstraint(
            model_name="txinput",
            constraint=models.UniqueConstraint(
                fields=("txid", "index", "chain"), name="input_key_uniq"
            ),
        ),
        migrations.AddConstraint(
            model_name="txinput",
            constraint=models.UniqueConstraint(
                fields=("spent_txid", "spent_vout", "chain"), name="input_spends_once_uniq"
            ),
        ),
        migrations.AddConstraint(
            model_name="txoutput",
            constraint=models.UniqueConstraint(
                fields=("txid", "index", "chain"), name="output_key_uniq"
            ),
        ),
    ]
