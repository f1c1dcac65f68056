/**
 * The ONNX protobuf schema (onnx/onnx.proto, proto2, package `onnx`) as a protobufjs JSON
 * descriptor: the messages a model file holds, with onnx.proto's field numbers and names. Enums
 * (AttributeProto.AttributeType, TensorProto.DataType, DataLocation) are declared as int32, which
 * is their wire format; their values are in {@link DATA_TYPE} and {@link ATTRIBUTE_TYPE}.
 *
 * Every message onnx.proto nests in a model is listed, training information and functions
 * included, so that decoding and encoding a model (saveOnnx) keeps all of it.
 */
import protobuf from 'protobufjs';

type Fields = Record<string, protobuf.IField>;
const opt = (type: string, id: number) => ({ type, id });
const rep = (type: string, id: number, packed = false) => ({ type, id, rule: 'repeated' as const, options: { packed } });
const message = (fields: Fields, nested?: Record<string, protobuf.IType>): protobuf.IType => (nested ? { fields, nested } : { fields });

const DESCRIPTOR: protobuf.INamespace = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: message({
          name: opt('string', 1),
          ref_attr_name: opt('string', 21),
          doc_string: opt('string', 13),
          type: opt('int32', 20),
          f: opt('float', 2),
          i: opt('int64', 3),
          s: opt('bytes', 4),
          t: opt('TensorProto', 5),
          g: opt('GraphProto', 6),
          sparse_tensor: opt('SparseTensorProto', 22),
          tp: opt('TypeProto', 14),
          floats: rep('float', 7),
          ints: rep('int64', 8),
          strings: rep('bytes', 9),
          tensors: rep('TensorProto', 10),
          graphs: rep('GraphProto', 11),
          sparse_tensors: rep('SparseTensorProto', 23),
          type_protos: rep('TypeProto', 15),
        }),
        ValueInfoProto: message({
          name: opt('string', 1),
          type: opt('TypeProto', 2),
          doc_string: opt('string', 3),
          metadata_props: rep('StringStringEntryProto', 4),
        }),
        NodeProto: message({
          input: rep('string', 1),
          output: rep('string', 2),
          name: opt('string', 3),
          op_type: opt('string', 4),
          domain: opt('string', 7),
          overload: opt('string', 8),
          attribute: rep('AttributeProto', 5),
          doc_string: opt('string', 6),
          metadata_props: rep('StringStringEntryProto', 9),
        }),
        TrainingInfoProto: message({
          initialization: opt('GraphProto', 1),
          algorithm: opt('GraphProto', 2),
          initialization_binding: rep('StringStringEntryProto', 3),
          update_binding: rep('StringStringEntryProto', 4),
        }),
        ModelProto: message({
          ir_version: opt('int64', 1),
          opset_import: rep('OperatorSetIdProto', 8),
          producer_name: opt('string', 2),
          producer_version: opt('string', 3),
          domain: opt('string', 4),
          model_version: opt('int64', 5),
          doc_string: opt('string', 6),
          graph: opt('GraphProto', 7),
          metadata_props: rep('StringStringEntryProto', 14),
          training_info: rep('TrainingInfoProto', 20),
          functions: rep('FunctionProto', 25),
        }),
        StringStringEntryProto: message({ key: opt('string', 1), value: opt('string', 2) }),
        TensorAnnotation: message({ tensor_name: opt('string', 1), quant_parameter_tensor_names: rep('StringStringEntryProto', 2) }),
        GraphProto: message({
          node: rep('NodeProto', 1),
          name: opt('string', 2),
          initializer: rep('TensorProto', 5),
          sparse_initializer: rep('SparseTensorProto', 15),
          doc_string: opt('string', 10),
          input: rep('ValueInfoProto', 11),
          output: rep('ValueInfoProto', 12),
          value_info: rep('ValueInfoProto', 13),
          quantization_annotation: rep('TensorAnnotation', 14),
          metadata_props: rep('StringStringEntryProto', 16),
        }),
        TensorProto: message({
          dims: rep('int64', 1),
          data_type: opt('int32', 2),
          segment: opt('Segment', 3),
          float_data: rep('float', 4, true),
          int32_data: rep('int32', 5, true),
          string_data: rep('bytes', 6),
          int64_data: rep('int64', 7, true),
          name: opt('string', 8),
          doc_string: opt('string', 12),
          raw_data: opt('bytes', 9),
          external_data: rep('StringStringEntryProto', 13),
          data_location: opt('int32', 14),
          double_data: rep('double', 10, true),
          uint64_data: rep('uint64', 11, true),
          metadata_props: rep('StringStringEntryProto', 16),
        }, { Segment: message({ begin: opt('int64', 1), end: opt('int64', 2) }) }),
        SparseTensorProto: message({ values: opt('TensorProto', 1), indices: opt('TensorProto', 2), dims: rep('int64', 3) }),
        TensorShapeProto: message({ dim: rep('Dimension', 1) }, {
          Dimension: message({ dim_value: opt('int64', 1), dim_param: opt('string', 2), denotation: opt('string', 3) }),
        }),
        TypeProto: message({
          tensor_type: opt('Tensor', 1),
          sequence_type: opt('Sequence', 4),
          map_type: opt('Map', 5),
          optional_type: opt('Optional', 9),
          sparse_tensor_type: opt('SparseTensor', 8),
          denotation: opt('string', 6),
        }, {
          Tensor: message({ elem_type: opt('int32', 1), shape: opt('TensorShapeProto', 2) }),
          Sequence: message({ elem_type: opt('TypeProto', 1) }),
          Map: message({ key_type: opt('int32', 1), value_type: opt('TypeProto', 2) }),
          Optional: message({ elem_type: opt('TypeProto', 1) }),
          SparseTensor: message({ elem_type: opt('int32', 1), shape: opt('TensorShapeProto', 2) }),
        }),
        OperatorSetIdProto: message({ domain: opt('string', 1), version: opt('int64', 2) }),
        FunctionProto: message({
          name: opt('string', 1),
          input: rep('string', 4),
          output: rep('string', 5),
          attribute: rep('string', 6),
          attribute_proto: rep('AttributeProto', 11),
          node: rep('NodeProto', 7),
          doc_string: opt('string', 8),
          opset_import: rep('OperatorSetIdProto', 9),
          domain: opt('string', 10),
          overload: opt('string', 13),
          value_info: rep('ValueInfoProto', 12),
          metadata_props: rep('StringStringEntryProto', 14),
        }),
      },
    },
  },
};

const root = protobuf.Root.fromJSON(DESCRIPTOR);
/** The ModelProto message type: `decode(bytes)` and `encode(message).finish()`. */
export const ModelProto = root.lookupType('onnx.ModelProto');

/** TensorProto.DataType: the element types of onnx.proto. */
export const DATA_TYPE = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;
/** TensorProto.DataLocation.EXTERNAL: the data is in another file, described by `external_data`. */
export const EXTERNAL = 1;

/** An int64 as protobufjs decodes it (a Long when long.js is present, else a number). */
export type Int64 = number | { toNumber(): number };
export const int = (v: Int64 | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

/** The decoded messages, with onnx.proto's field names (only the fields dltheory reads are typed). */
export interface StringStringEntry {
  key: string;
  value: string;
}
export interface TensorProto {
  dims: Int64[];
  data_type: number;
  segment?: { begin: Int64; end: Int64 } | null;
  float_data: number[];
  int32_data: number[];
  int64_data: Int64[];
  double_data: number[];
  uint64_data: Int64[];
  name: string;
  raw_data: Uint8Array;
  external_data: StringStringEntry[];
  data_location: number;
}
export interface AttributeProto {
  name: string;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t?: TensorProto | null;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
}
export interface NodeProto {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain: string;
  attribute: AttributeProto[];
}
export interface Dimension {
  dim_value?: Int64 | null;
  dim_param?: string | null;
}
export interface ValueInfoProto {
  name: string;
  type?: { tensor_type?: { elem_type: number; shape?: { dim: Dimension[] } | null } | null } | null;
}
export interface GraphProto {
  node: NodeProto[];
  name: string;
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
}
export interface ModelProtoMessage {
  ir_version: Int64;
  opset_import: { domain: string; version: Int64 }[];
  graph?: GraphProto | null;
}
