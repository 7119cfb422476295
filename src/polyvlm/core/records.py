"""The records that flow through a recipe: Document, ImageRef, Sample, Pair (one declaration, JSON and Arrow forms).

The names live in record_kinds (the classes and their JSON form) and record_tables (the Arrow form);
this module is where the rest of polyvlm imports them from.
"""

from polyvlm.core.record_kinds import (
    RECORD_TYPES,
    Document,
    ImageRef,
    Message,
    Pair,
    Provenance,
    Record,
    Sample,
    qa_messages,
    record_from_dict,
    record_from_json,
    record_text,
    record_to_json,
    record_type,
)
from polyvlm.core.record_tables import (
    DOCUMENT_SCHEMA,
    IMAGE_TYPE,
    PAIR_SCHEMA,
    PROVENANCE_TYPE,
    SAMPLE_SCHEMA,
    SCHEMAS,
    kind_of_schema,
    record_to_row,
    records_to_table,
    row_to_record,
    table_to_records,
)

__all__ = [
    "DOCUMENT_SCHEMA",
    "IMAGE_TYPE",
    "PAIR_SCHEMA",
    "PROVENANCE_TYPE",
    "RECORD_TYPES",
    "SAMPLE_SCHEMA",
    "SCHEMAS",
    "Document",
    "ImageRef",
    "Message",
    "Pair",
    "Provenance",
    "Record",
    "Sample",
    "kind_of_schema",
    "qa_messages",
    "record_from_dict",
    "record_from_json",
    "record_text",
    "record_to_json",
    "record_to_row",
    "record_type",
    "records_to_table",
    "row_to_record",
    "table_to_records",
]
