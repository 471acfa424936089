using static TorchSharp.torch;

namespace Shrink.Formatting;

/// <summary>
/// A TorchSharp tensor as a notebook shows it: <c>x.Preview()</c> as a cell's last expression (or in
/// <c>display(…)</c>) renders the shape, dtype, device, autograd flag, min/mean/max and a table of the values through
/// <see cref="TensorFormatterSource"/>. TorchSharp's <c>Tensor</c> cannot carry our
/// <see cref="TypeFormatterSourceAttribute"/> and its <c>ToString()</c> prints only the metadata
/// (<c>[2x3], type = Float32, device = cpu</c>), so the notebook hosts (Polyglot and Shrink.Notebooks alike) find the
/// formatter on this wrapper instead. The wrapper holds the tensor without copying or owning it.
/// </summary>
[TypeFormatterSource(typeof(TensorFormatterSource), PreferredMimeTypes = ["text/html", "text/plain"])]
public sealed class TensorPreview
{
    /// <summary>Wraps <paramref name="tensor"/> for display.</summary>
    public TensorPreview(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Tensor = tensor;
    }

    /// <summary>The tensor shown.</summary>
    public Tensor Tensor { get; }

    /// <summary>The metadata line and the values in numpy's layout, e.g. <c>Tensor[2, 3] float32 cpu</c> then <c>[[0, 1, 2] …</c>.</summary>
    public override string ToString() =>
        Tensor.IsInvalid ? TensorFormatterSource.Header(Tensor) : TensorFormatterSource.Header(Tensor) + "\n" + Tensor.ToString(TorchSharp.TensorStringStyle.Numpy);
}

/// <summary><c>x.Preview()</c>: a TorchSharp tensor wrapped for display in a notebook (<see cref="TensorPreview"/>).</summary>
public static class TensorPreviewExtensions
{
    /// <summary>Wraps <paramref name="tensor"/> so the notebook renders its shape, statistics and values.</summary>
    public static TensorPreview Preview(this Tensor tensor) => new(tensor);
}
