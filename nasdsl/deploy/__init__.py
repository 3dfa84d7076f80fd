"""After training: ONNX export (fp32, int8), the model card it carries, onnxruntime inference and the
HTTP server."""
