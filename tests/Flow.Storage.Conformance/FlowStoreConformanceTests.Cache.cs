using Flow.Engine.Storage;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>The task result cache.</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task GetCacheEntryAsync_UnknownKey_ReturnsNull()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await store.PutCacheEntryAsync(new CacheEntry("known", "1", "task", "run", T0, null), deadline.Token);

        Assert.Null(await store.GetCacheEntryAsync("unknown", deadline.Token));
    }

    [Fact]
    public async Task PutCacheEntryAsync_ThenGet_RoundTripsEveryField()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var expiring = new CacheEntry("task:etl/extract#v1", "{ \"rows\" : [1, 2, 3], \"name\": \"Zoë\" }", "extract-données", "run-1", T0, T0.AddDays(7));
        var forever = new CacheEntry("forever", "null", "t", "run-2", T0.AddMinutes(1), null);

        await store.PutCacheEntryAsync(expiring, deadline.Token);
        await store.PutCacheEntryAsync(forever, deadline.Token);

        Assert.Equal(expiring, await store.GetCacheEntryAsync(expiring.Key, deadline.Token));
        Assert.Equal(forever, await store.GetCacheEntryAsync(forever.Key, deadline.Token));
    }

    [Fact]
    public async Task PutCacheEntryAsync_ExistingKey_ReplacesTheEntry()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await store.PutCacheEntryAsync(new CacheEntry("k", "{\"old\":true}", "old-task", "run-1", T0, T0.AddHours(1)), deadline.Token);
        var replacement = new CacheEntry("k", "{\"new\":true}", "new-task", "run-2", T0.AddMinutes(5), null);

        await store.PutCacheEntryAsync(replacement, deadline.Token);

        Assert.Equal(replacement, await store.GetCacheEntryAsync("k", deadline.Token));
    }

    [Fact]
    public async Task GetCacheEntryAsync_ExpiredEntry_IsStillReturned()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var expired = new CacheEntry("expired", "42", "task", "run", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddSeconds(1));

        await store.PutCacheEntryAsync(expired, deadline.Token);

        Assert.Equal(expired, await store.GetCacheEntryAsync("expired", deadline.Token));
    }

    [Fact]
    public async Task CacheKeys_WithAnyCharacters_AreKeptDistinctAndExact()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var longKey = new string('k', StorageContract.MaxCacheKeyLength);
        string[] keys =
        [
            "a/b", "a%2Fb", "%2F", "a#b", "a?b", "a\\b", "a\\\\b", "\"double\"", "'single'", "tab\there", "new\nline", "\u0001\u001f\u007f",
            "日本語-键-🔑", "Key", "key", "KEY", " leading", "trailing ", " ", ".", "..", "~!@$&*()+=[]{}|;:,<>", "a b", "a+b",
            longKey, longKey[..^1] + "j", longKey[..^1], string.Concat(Enumerable.Repeat("é🔑", StorageContract.MaxCacheKeyLength / 3)),
        ];

        for (var i = 0; i < keys.Length; i++)
        {
            await store.PutCacheEntryAsync(new CacheEntry(keys[i], $"{{\"i\":{i}}}", "task", "run", T0, null), deadline.Token);
        }

        for (var i = 0; i < keys.Length; i++)
        {
            var entry = await store.GetCacheEntryAsync(keys[i], deadline.Token);
            Assert.True(entry is not null, $"Key {i} ({keys[i].Length} characters) was not found.");
            Assert.Equal(keys[i], entry.Key);
            Assert.Equal($"{{\"i\":{i}}}", entry.Value);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(StorageContract.MaxCacheKeyLength + 1)]
    public async Task PutCacheEntryAsync_KeyEmptyOrTooLong_ThrowsArgumentException(int length)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        await Assert.ThrowsAnyAsync<ArgumentException>(
            () => store.PutCacheEntryAsync(new CacheEntry(new string('k', length), "1", "task", "run", T0, null), deadline.Token));
    }
}
