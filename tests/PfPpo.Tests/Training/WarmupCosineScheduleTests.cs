using PfPpo.Training;

namespace PfPpo.Tests.Training;

public class WarmupCosineScheduleTests
{
    [Fact]
    public void WarmsUpLinearlyThenDecaysToTheFloor()
    {
        var schedule = new WarmupCosineSchedule(1e-3, WarmupSteps: 10, TotalSteps: 110, MinRatio: 0.1);
        Assert.Equal(1e-4, schedule.At(0), 12);
        Assert.Equal(1e-3, schedule.At(9), 12);
        Assert.Equal(1e-3, schedule.At(10), 12);
        Assert.Equal(0.55e-3, schedule.At(60), 12);   // half way through the decay: floor + half the range
        Assert.Equal(1e-4, schedule.At(110), 12);
        Assert.Equal(1e-4, schedule.At(500), 12);      // stays at the floor past the end
        for (int step = 10; step < 110; step++)
        {
            Assert.True(schedule.At(step + 1) <= schedule.At(step));
        }
    }
}
