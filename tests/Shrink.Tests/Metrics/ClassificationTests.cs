using Shrink.Data;
using Shrink.Metrics;
using Shrink.Models;
using Shrink.Torch;
using TorchSharp;
using static Shrink.Tests.Models.ModelTestUtil;
using static TorchSharp.torch;

namespace Shrink.Tests.Metrics;

public class ClassificationTests
{
    [Fact]
    public void ConfusionMatrixCountsPairs()
    {
        var m = Classification.ConfusionMatrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3);
        Assert.Equal(new int[,] { { 1, 1, 0 }, { 0, 1, 0 }, { 1, 0, 2 } }, m);
        Assert.Equal(new[] { 0.5, 1.0, 2.0 / 3 }, Classification.PerClassAccuracy(m));
        Assert.Equal(4.0 / 6, Classification.Accuracy([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2]));
    }

    [Fact]
    public void ConfusionMatrixRejectsBadInput()
    {
        Assert.Contains("3 labels but 2 predictions", Assert.Throws<ArgumentException>(() => Classification.ConfusionMatrix([0, 1, 2], [0, 1], 3)).Message);
        Assert.Contains("sample 1 has label 5", Assert.Throws<ArgumentException>(() => Classification.ConfusionMatrix([0, 5], [0, 1], 3)).Message);
    }

    [Fact]
    public void PredictMatchesForwardArgMaxInDatasetOrder()
    {
        var data = FashionMnist.LoadSubset("test");
        var small = new ImageDataset("first 37", data.Pixels[..(37 * 784)].ToArray(), data.Labels.Take(37).ToArray(), 1, 28, 28, data.ClassNames);
        var model = VitModels.Create("vit_nano_patch7_28", seed: 3);
        var predictions = Classification.Predict(model, small, Normalization.FashionMnist, batchSize: 16);
        var probabilities = Classification.Probabilities(model, small, Normalization.FashionMnist, batchSize: 16);
        Assert.True(model.training);   // restored
        model.eval();
        using var _ = no_grad();
        for (int i = 0; i < 37; i += 9)
        {
            var logits = model.forward(small.Image(i, Normalization.FashionMnist).unsqueeze(0));   // (1, K)
            Assert.Equal(logits.argmax(-1).item<long>(), predictions[i]);
            Assert.Equal(Values(logits.softmax(-1)), probabilities[i], new Shrink.Tests.Models.FloatTolerance(1e-6f));
        }
    }

    [Fact]
    public void ClassTokenMapsAreTheClsRowOfTheLastBlockAveragedOverHeads()
    {
        var model = VitModels.Create("deit_nano_distilled_patch7_28", seed: 1);   // two prefix tokens
        var images = randn([2, 1, 28, 28], generator: Seed.Generator(5));
        var maps = AttentionMaps.ClassTokenToPatches(model, images);
        Assert.True(model.training);   // restored
        model.eval();
        using var _ = no_grad();
        var a = model.ForwardIntermediates(images, Intermediates.Attentions).Attentions[^1];   // (2, 4, 18, 18)
        long heads = a.shape[1];
        for (int b = 0; b < 2; b++)
        {
            Assert.Equal(4, maps[b].GetLength(0));
            float mass = 0;
            for (int p = 0; p < 16; p++)
            {
                float expected = a[b, .., 0, 2 + p].sum().item<float>();
                Assert.Equal(expected / heads, maps[b][p / 4, p % 4], 5);
                mass += maps[b][p / 4, p % 4];
            }
            float prefix = a[b, .., 0, 0..2].sum().item<float>();
            Assert.Equal(1f, mass + prefix / heads, 4);
        }
        Assert.Throws<ArgumentException>(() => AttentionMaps.ClassTokenToPatches(model, images, block: 4));
    }
}
