using Shrink.Tensors;
using static Shrink.Tests.Engine.GradCheck;

namespace Shrink.Tests.Engine;

/// <summary>Gradient checks of the core tensor ops, with broadcasting and non-contiguous (view) inputs.</summary>
public class CoreOpGradTests
{
    [Fact] public void AddBroadcast() => Check("Add", x => x[0] + x[1], Input([2, 3, 4], 1), Input([3, 1], 2));
    [Fact] public void SubBroadcast() => Check("Sub", x => x[0] - x[1], Input([4], 1), Input([2, 3, 4], 2));
    [Fact] public void MulBroadcast() => Check("Mul", x => x[0] * x[1], Input([2, 1, 4], 1), Input([3, 1], 2));
    [Fact] public void DivBroadcast() => Check("Div", x => x[0] / (x[1].Abs() + 0.5f), Input([2, 3], 1), Input([3], 2));
    [Fact] public void MulNonContiguous() => Check("Mul(transposed view)", x => x[0].Transpose(0, 1) * x[1], Input([4, 3], 1), Input([3, 4], 2));
    [Fact] public void ScalarOps() => Check("scalar ops", x => (2f - x[0] * 3f + 1f) / 4f, Input([5], 1));
    [Fact] public void Neg() => Check("Neg", x => -x[0], Input([3, 2], 1));
    [Fact] public void Exp() => Check("Exp", x => x[0].Exp(), Input([3, 4], 1));
    [Fact] public void Log() => Check("Log", x => (x[0].Abs() + 0.5f).Log(), Input([3, 4], 1, 0.05f));
    [Fact] public void Sqrt() => Check("Sqrt", x => (x[0].Abs() + 0.5f).Sqrt(), Input([3, 4], 1, 0.05f));
    [Fact] public void Pow() => Check("Pow", x => (x[0].Abs() + 0.5f).Pow(2.5f) + x[0].Pow(2f), Input([3, 4], 1, 0.05f));
    [Fact] public void Abs() => Check("Abs", x => x[0].Abs(), Input([3, 4], 1, 0.05f));
    [Fact] public void Clamp() => Check("Clamp", x => x[0].Clamp(-0.5f, 0.4f), Tensor.FromArray([-0.9f, -0.6f, -0.3f, 0.1f, 0.3f, 0.6f, 0.9f], 7).RequiresGrad_());
    [Fact] public void Relu() => Check("Relu", x => x[0].Relu(), Input([3, 4], 1, 0.05f));
    [Fact] public void GeluErf() => Check("Gelu", x => (x[0] * 3f).Gelu(), Input([40], 1));
    [Fact] public void GeluTanh() => Check("GeluTanh", x => (x[0] * 3f).Gelu("tanh"), Input([40], 1));
    [Fact] public void Sigmoid() => Check("Sigmoid", x => (x[0] * 3f).Sigmoid(), Input([3, 4], 1));
    [Fact] public void Tanh() => Check("Tanh", x => (x[0] * 2f).Tanh(), Input([3, 4], 1));

    [Fact] public void SumAxes() => Check("Sum", x => x[0].Sum([0, 2], keepdim: false), Input([2, 3, 4], 1));
    [Fact] public void SumKeepdim() => Check("Sum keepdim", x => x[0].Sum(1, keepdim: true) * x[0], Input([2, 3, 4], 1));
    [Fact] public void SumAll() => Check("Sum all", x => x[0].Sum(), Input([2, 3], 1));
    [Fact] public void MeanNonContiguous() => Check("Mean", x => x[0].Permute(2, 0, 1).Mean(-1), Input([2, 3, 4], 1));
    [Fact] public void Max() => Check("Max", x => x[0].Max(1).Values, Input([3, 5], 1));
    [Fact] public void Var() => Check("Var", x => x[0].Var([1], correction: 1), Input([3, 5], 1));
    [Fact] public void Softmax() => Check("Softmax", x => (x[0] * 2f).Softmax(-1), Input([3, 5], 1));
    [Fact] public void SoftmaxMiddleAxis() => Check("Softmax axis 1", x => x[0].Softmax(1), Input([2, 3, 4], 1));
    [Fact] public void LogSoftmax() => Check("LogSoftmax", x => (x[0] * 2f).LogSoftmax(-1), Input([3, 5], 1));

    [Fact] public void MatMul2D() => Check("MatMul", x => x[0].MatMul(x[1]), Input([3, 4], 1), Input([4, 5], 2));
    [Fact] public void MatMulTransposedViews() => Check("MatMul(transposed)", x => x[0].MT.MatMul(x[1].MT), Input([4, 3], 1), Input([5, 4], 2));
    [Fact] public void MatMulBatchedBroadcast() => Check("MatMul batched", x => x[0].MatMul(x[1]), Input([2, 3, 3, 4], 1), Input([4, 2], 2));
    [Fact] public void MatMulBatchBroadcastBoth() => Check("MatMul batch broadcast", x => x[0].MatMul(x[1]), Input([2, 1, 3, 4], 1), Input([3, 4, 2], 2));
    [Fact] public void MatMulVector() => Check("MatMul vector", x => x[0].MatMul(x[1]), Input([3, 4], 1), Input([4], 2));

    [Fact] public void ReshapeNarrowSelect() => Check("views", x => x[0].Reshape(4, 6).Narrow(1, 1, 3).Select(0, 2) * 2f, Input([2, 3, 4], 1));
    [Fact] public void SliceFirstAxisIsContiguousView() => Check("Slice", x => x[0].Slice(1, 2).Exp(), Input([4, 3], 1));
    [Fact] public void PermuteExpand() => Check("Permute/Expand", x => x[0].Permute(1, 0).Unsqueeze(0).Expand(3, -1, -1) * x[1], Input([2, 3], 1), Input([3, 3, 2], 2));
    [Fact] public void Flatten() => Check("Flatten", x => x[0].Transpose(0, 2).Flatten(1) * 1.5f, Input([2, 3, 4], 1));
}
