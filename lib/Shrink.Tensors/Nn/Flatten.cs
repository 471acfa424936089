namespace Shrink.Tensors.Nn;

/// <summary>Merges axes startAxis…endAxis into one (PyTorch <c>nn.Flatten</c>; default keeps the batch axis: (B, C, H, W) → (B, C·H·W)).</summary>
public sealed class Flatten : Module<Tensor, Tensor>
{
    /// <summary>First axis merged (may be negative).</summary>
    public int StartAxis { get; }

    /// <summary>Last axis merged (may be negative).</summary>
    public int EndAxis { get; }

    /// <summary>Creates the layer; the defaults flatten everything but the batch axis.</summary>
    public Flatten(int startAxis = 1, int endAxis = -1) { StartAxis = startAxis; EndAxis = endAxis; }

    /// <summary>input.Flatten(StartAxis, EndAxis) — a view when the input is contiguous.</summary>
    public override Tensor Forward(Tensor input) => input.Flatten(StartAxis, EndAxis);

    /// <inheritdoc/>
    public override string ExtraRepr() => $"start_dim={StartAxis}, end_dim={EndAxis}";
}
