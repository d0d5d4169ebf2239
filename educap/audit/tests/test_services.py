def test_a_summarised_block_writes_one_event_counting_the_rest(db):
    from educap.audit.models import AuditAction, AuditEvent
    from educap.audit.services import audit_record, audit_summarised

    with audit_summarised(
        actor=None, action=AuditAction.CREATE, object_type="demo.x", object_repr="bulk"
    ):
        for n in range(3):
            audit_record(actor=None, action=AuditAction.CREATE, object_type="x", object_id=str(n))
    event = AuditEvent.objects.get()
    assert (event.object_type, event.after) == ("demo.x", {"events": 3})
    # Outside the block, events are written again.
    audit_record(actor=None, action=AuditAction.CREATE, object_type="x")
    assert AuditEvent.objects.count() == 2
