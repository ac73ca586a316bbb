"""flagd's sync messages through the protobuf runtime, to check Turnout's hand encoding against.

Built from descriptors written out field by field after flagd-schemas'
`protobuf/flagd/sync/v1/sync.proto` (what `protoc` would emit for it), so no
generated code is kept; a Python gRPC client uses these as its (de)serializers.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, struct_pb2

_STRING = descriptor_pb2.FieldDescriptorProto.TYPE_STRING
_MESSAGE = descriptor_pb2.FieldDescriptorProto.TYPE_MESSAGE
_OPTIONAL = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL


def _file() -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto(name="flagd/sync/v1/sync.proto", package="flagd.sync.v1",
                                               syntax="proto3",
                                               dependency=["google/protobuf/struct.proto"])

    def message(name: str, *fields: tuple[str, int, int, str]) -> descriptor_pb2.DescriptorProto:
        out = proto.message_type.add(name=name)
        for field_name, number, kind, type_name in fields:
            out.field.add(name=field_name, number=number, type=kind, label=_OPTIONAL,
                          **({"type_name": type_name} if type_name else {}))
        return out

    request = (("provider_id", 1, _STRING, ""), ("selector", 2, _STRING, ""))
    message("SyncFlagsRequest", *request)
    response = message("SyncFlagsResponse", ("flag_configuration", 1, _STRING, ""),
                       ("sync_context", 2, _MESSAGE, ".google.protobuf.Struct"))
    # `optional` in proto3 is a synthetic one-field oneof.
    response.oneof_decl.add(name="_sync_context")
    response.field[1].oneof_index = 0
    response.field[1].proto3_optional = True
    message("FetchAllFlagsRequest", *request)
    message("FetchAllFlagsResponse", ("flag_configuration", 1, _STRING, ""))
    message("GetMetadataRequest")
    message("GetMetadataResponse", ("metadata", 2, _MESSAGE, ".google.protobuf.Struct"))
    return proto


_POOL = descriptor_pool.DescriptorPool()
_POOL.AddSerializedFile(struct_pb2.DESCRIPTOR.serialized_pb)
_POOL.Add(_file())


def message(name: str) -> Any:
    """The message class `flagd.sync.v1.<name>`."""
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(f"flagd.sync.v1.{name}"))


SyncFlagsRequest = message("SyncFlagsRequest")
SyncFlagsResponse = message("SyncFlagsResponse")
FetchAllFlagsRequest = message("FetchAllFlagsRequest")
FetchAllFlagsResponse = message("FetchAllFlagsResponse")
GetMetadataRequest = message("GetMetadataRequest")
GetMetadataResponse = message("GetMetadataResponse")
