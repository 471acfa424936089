using Shrink.Tensors;
using Shrink.Tensors.Nn;
using Shrink.Tensors.Optim;

namespace Shrink.Tests.Nn;

public class ScheduleAndClipTests
{
    [Fact]
    public void CosineWithWarmupAtKeySteps()
    {
        var s = new CosineWithWarmup(baseLr: 1.0, warmupSteps: 10, totalSteps: 110, minLr: 0.1, warmupStartLr: 0.01);
        Assert.Equal(0.01, s.LearningRate(0), 1e-15);
        Assert.Equal(0.01 + 0.99 * 0.5, s.LearningRate(5), 1e-15);
        Assert.Equal(1.0, s.LearningRate(10), 1e-15);
        Assert.Equal(0.1 + 0.45 * (1 + Math.Cos(Math.PI / 4)), s.LearningRate(35), 1e-15);
        Assert.Equal(0.55, s.LearningRate(60), 1e-15);
        Assert.Equal(0.1, s.LearningRate(110), 1e-15);
        Assert.Equal(0.1, s.LearningRate(1000), 1e-15);
        var noWarmup = new CosineWithWarmup(2.0, 0, 4);
        Assert.Equal(2.0, noWarmup.LearningRate(0));
        Assert.Equal(1.0, noWarmup.LearningRate(2), 1e-15);
        Assert.Throws<ArgumentException>(() => new CosineWithWarmup(1, 10, 5));
    }

    [Fact]
    public void StepAndConstantSchedulesApplyToGroups()
    {
        var s = new StepLr(0.5, stepSize: 3, gamma: 0.1);
        Assert.Equal(0.5, s.LearningRate(0));
        Assert.Equal(0.5, s.LearningRate(2));
        Assert.Equal(0.05, s.LearningRate(3), 1e-15);
        Assert.Equal(0.005, s.LearningRate(7), 1e-15);
        Assert.Equal(0.3, new ConstantLr(0.3).LearningRate(99));
        Assert.Throws<ArgumentOutOfRangeException>(() => s.LearningRate(-1));

        var a = new Parameter(Tensor.Zeros(2));
        var b = new Parameter(Tensor.Zeros(2));
        var opt = new AdamW([new ParamGroup([a]), new ParamGroup([b], lrScale: 0.5)]);
        Assert.Equal(0.05, s.Apply(opt, 4), 1e-15);
        Assert.Equal(0.05, opt.ParamGroups[0].Lr, 1e-15);
        Assert.Equal(0.025, opt.ParamGroups[1].Lr, 1e-15);
    }

    [Fact]
    public void ClipGradNormScalesLikePyTorch()
    {
        var a = new Parameter(Tensor.Zeros(2)) { Grad = Tensor.FromArray([3f, -4f], 2) };
        var b = new Parameter(Tensor.Zeros(1)) { Grad = Tensor.FromArray([12f], 1) };
        var none = new Parameter(Tensor.Zeros(3));
        double total = GradClip.ClipGradNorm([a, b, none], maxNorm: 6.5);
        Assert.Equal(13.0, total, 1e-12);
        float coef = (float)(6.5 / (13 + 1e-6));
        Assert.Equal([3f * coef, -4f * coef], a.Grad.ToArray());
        Assert.Equal([12f * coef], b.Grad.ToArray());

        // Below the threshold: unchanged (coef clamped to 1), total still returned.
        Assert.Equal(6.5, GradClip.ClipGradNorm([a, b], 100), 1e-5);
        Assert.Equal([3f * coef, -4f * coef], a.Grad.ToArray());

        a.Grad = Tensor.FromArray([1f, -5f], 2); b.Grad = Tensor.FromArray([2f], 1);
        Assert.Equal(5.0, GradClip.ClipGradNorm([a, b], 1, double.PositiveInfinity));
        Assert.Equal(-5f * (float)(1 / (5 + 1e-6)), a.Grad.ToArray()[1]);
        a.Grad = Tensor.FromArray([1f, -5f], 2); b.Grad = Tensor.FromArray([2f], 1);
        Assert.Equal(8.0, GradClip.ClipGradNorm([a, b], 100, 1));
        Assert.Equal(Math.Pow(1 + 125 + 8, 1 / 3.0), GradClip.ClipGradNorm([a, b], 100, 3), 1e-12);
        Assert.Equal(0.0, GradClip.ClipGradNorm([none], 1));
    }
}
