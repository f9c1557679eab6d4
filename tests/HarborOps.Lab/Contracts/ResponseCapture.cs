namespace HarborOps.Lab.Contracts;

/// <summary>
/// Keeps an emulator's answer as it was sent, so that the judges can hold each one to the service's published contract:
/// the response body is buffered while the handler writes it, handed over with its status and content type, then sent on.
/// </summary>
public static class ResponseCapture
{
    public static async Task RunAsync(HttpContext context, Func<Task> handle, Action<int, string?, string> record)
    {
        var sent = context.Response.Body;
        using var captured = new MemoryStream();
        context.Response.Body = captured;
        try
        {
            await handle();
        }
        finally
        {
            context.Response.Body = sent;
            captured.Position = 0;
            record(context.Response.StatusCode, context.Response.ContentType, new StreamReader(captured).ReadToEnd());
            captured.Position = 0;
            await captured.CopyToAsync(sent, context.RequestAborted);
        }
    }
}
