using TorchSharp;
using static TorchSharp.torch;

namespace Shrink.Distillation;

/// <summary>
/// A trained teacher for a <see cref="Distiller"/>: its name (as in <see cref="DistillationHparams.Teachers"/>; it names
/// cache files too) and the model, images (B, C, H, W) → logits (B, K), taking the same normalised images as the student.
/// The distiller freezes it, moves it to the run's device and runs it in evaluation mode under no-grad.
/// </summary>
/// <param name="Name">The teacher's name, e.g. its run name.</param>
/// <param name="Model">The trained model.</param>
public sealed record DistillationTeacher(string Name, nn.Module<Tensor, Tensor> Model);
