using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Flow.Storage.Azure.Internal;

namespace Flow.Storage.Azure.Tests;

/// <summary>
/// The Table service's SharedKey string-to-sign, checked against a vector built by hand from the documented rule:
/// VERB \n Content-MD5 \n Content-Type \n Date \n /account/path[?comp=...].
/// </summary>
public sealed class SharedKeySigningTests
{
    private static readonly StorageSharedKeyCredential Credential = new("devstoreaccount1", StorageConnection.DevelopmentAccountKey);

    [Fact]
    public void TableSignature_CoversVerbContentTypeDateAndEncodedPathButNotOtherQueryParameters()
    {
        var message = Pipeline().CreateMessage();
        message.Request.Method = RequestMethod.Get;
        message.Request.Uri.Reset(new Uri("http://127.0.0.1:10002/devstoreaccount1/runs(PartitionKey='a%20b',RowKey='c')?$select=X&comp=ignored-not"));
        message.Request.Headers.SetValue("Content-Type", "application/json");
        message.Request.Headers.SetValue("x-ms-date", "Sat, 21 Nov 2026 06:00:00 GMT");

        new TableSharedKeyPolicy(Credential).OnSendingRequest(message);

        var expected = "GET\n\napplication/json\nSat, 21 Nov 2026 06:00:00 GMT\n/devstoreaccount1/devstoreaccount1/runs(PartitionKey='a%20b',RowKey='c')?comp=ignored-not";
        Assert.True(message.Request.Headers.TryGetValue("Authorization", out var auth));
        Assert.Equal("SharedKey devstoreaccount1:" + Sign(expected), auth);
    }

    [Fact]
    public void TableSignature_ChangesWithTheDate_SoEveryRetryIsSignedAfresh()
    {
        string SignAt(string date)
        {
            var message = Pipeline().CreateMessage();
            message.Request.Method = RequestMethod.Get;
            message.Request.Uri.Reset(new Uri("http://127.0.0.1:10002/devstoreaccount1/Tables"));
            message.Request.Headers.SetValue("x-ms-date", date);
            new TableSharedKeyPolicy(Credential).OnSendingRequest(message);
            message.Request.Headers.TryGetValue("Authorization", out var auth);
            return auth!;
        }

        Assert.NotEqual(SignAt("Sat, 21 Nov 2026 06:00:00 GMT"), SignAt("Sat, 21 Nov 2026 06:00:01 GMT"));
    }

    private static HttpPipeline Pipeline() => HttpPipelineBuilder.Build(new StorageClientOptions());

    private static string Sign(string stringToSign) =>
        Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(StorageConnection.DevelopmentAccountKey), Encoding.UTF8.GetBytes(stringToSign)));
}
