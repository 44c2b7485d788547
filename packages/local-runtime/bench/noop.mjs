// The benchmark's function: does nothing, so what is measured is the runtime's own overhead.
export const handler = async () => ({ statusCode: 200, body: 'ok' });
