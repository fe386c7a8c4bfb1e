import solodesk.timetracking.models
from django.db import migrations


def own_json_backfill(apps, schema_editor):
    """The existing entries' `own_json`, written by the database in one UPDATE (as
    `time_entries_own_json_rebuild`; new writes keep it through the ORM)."""
    from solodesk.timetracking.selectors import own_json_expression

    TimeEntry = apps.get_model("timetracking", "TimeEntry")
    TimeEntry.objects.using(schema_editor.connection.alias).update(
        own_json=own_json_expression()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("timetracking", "0009_unbilledtime"),
    ]

    operations = [
        migrations.AddField(
            model_name="timeentry",
            name="own_json",
            field=solodesk.timetracking.models.OwnJsonField(default="", editable=False),
        ),
        migrations.RunPython(own_json_backfill, migrations.RunPython.noop, elidable=True),
    ]
