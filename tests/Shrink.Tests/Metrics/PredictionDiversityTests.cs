using Shrink.Data;
using Shrink.Metrics;
using Shrink.Models;

namespace Shrink.Tests.Metrics;

public class PredictionDiversityTests
{
    [Fact]
    public void CountsTheFourOutcomesAndAgreement()
    {
        int[] labels = [0, 1, 2, 0, 1, 2, 0, 1];
        int[] a = [0, 1, 2, 1, 0, 0, 2, 1];   // right on 0, 1, 2, 7
        int[] b = [0, 2, 2, 0, 0, 1, 2, 0];   // right on 0, 2, 3
        var d = PredictionDiversity.Of(labels, a, b);
        Assert.Equal(8, d.Count);
        Assert.Equal(2 / 8.0, d.BothRight);          // 0, 2
        Assert.Equal(2 / 8.0, d.OnlyFirstRight);     // 1, 7
        Assert.Equal(1 / 8.0, d.OnlySecondRight);    // 3
        Assert.Equal(3 / 8.0, d.BothWrong);          // 4, 5, 6
        Assert.Equal(4 / 8.0, d.Agreement);          // 0, 2, 4, 6
        Assert.Equal(5 / 8.0, d.Oracle);
        Assert.Equal(4 / 8.0, d.FirstAccuracy);
        Assert.Equal(3 / 8.0, d.SecondAccuracy);
        Assert.Equal(3 / 5.0, d.Complementarity, 12);
        Assert.Null(d.MeanJensenShannon);
        Assert.Throws<ArgumentException>(() => PredictionDiversity.Of(labels, a, b[..7]));
        Assert.Throws<ArgumentException>(() => PredictionDiversity.Of([], [], Array.Empty<int>()));
    }

    [Fact]
    public void JensenShannonAndTheAveragedEnsembleFollowTheirDefinitions()
    {
        float[][] p = [[0.7f, 0.2f, 0.1f], [1f, 0f, 0f], [0.4f, 0.35f, 0.25f]];
        float[][] q = [[0.7f, 0.2f, 0.1f], [0f, 1f, 0f], [0.1f, 0.5f, 0.4f]];
        int[] labels = [0, 1, 1];
        var d = PredictionDiversity.Of(labels, p, q);
        // sample 0: identical (0); sample 1: disjoint (ln 2); sample 2: by the formula
        double js2 = 0;
        for (int c = 0; c < 3; c++)
        {
            double m = (p[2][c] + q[2][c]) / 2.0;
            js2 += 0.5 * p[2][c] * Math.Log(p[2][c] / m) + 0.5 * q[2][c] * Math.Log(q[2][c] / m);
        }
        Assert.Equal((0 + Math.Log(2) + js2) / 3, d.MeanJensenShannon!.Value, 6);
        // averages: [0.7,0.2,0.1] → 0 ✓; [0.5,0.5,0] → tie → class 0 ✗; [0.25,0.425,0.325] → 1 ✓
        Assert.Equal(2 / 3.0, d.AverageEnsembleAccuracy!.Value, 12);
        Assert.Equal(1 / 3.0, d.Agreement, 12);   // arg-max 0,0,0 vs 0,1,1
        Assert.Throws<ArgumentException>(() => PredictionDiversity.Of(labels, p, [q[0], q[1], [0.5f, 0.5f]]));
        Assert.Throws<ArgumentException>(() => PredictionDiversity.Of(labels, p, [q[0], q[1], [float.NaN, 0.5f, 0.5f]]));
    }

    [Fact]
    public void ProbabilitiesAreTheSoftmaxRowsInDatasetOrder()
    {
        var data = FashionMnist.LoadSubset("test");
        var small = new ImageDataset("first 23", data.Pixels[..(23 * 784)].ToArray(), data.Labels.Take(23).ToArray(), 1, 28, 28, data.ClassNames);
        var model = ModelZoo.Create("resnet8_w16", 2);
        var probabilities = Classification.Probabilities(model, small, Normalization.FashionMnist, batchSize: 10);
        var predictions = Classification.Predict(model, small, Normalization.FashionMnist, batchSize: 7);
        Assert.Equal(23, probabilities.Length);
        for (int i = 0; i < 23; i++)
        {
            Assert.Equal(1f, probabilities[i].Sum(), 4);
            Assert.Equal(predictions[i], Array.IndexOf(probabilities[i], probabilities[i].Max()));
        }
    }
}
