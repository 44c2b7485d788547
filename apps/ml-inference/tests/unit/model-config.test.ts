import { describe, expect, it } from 'vitest';

import { DEFAULT_MODEL_CONFIG, parseModelConfig, resolveModelConfig, serializeModelConfig } from '../../src/core/model-config.js';
import { ModelInvalidError } from '../../src/errors.js';

describe('model.json', () => {
  it("defaults to the post's transform and a model that outputs logits", () => {
    const config = resolveModelConfig({}, 'm');
    expect(config).toEqual(DEFAULT_MODEL_CONFIG);
    expect(config.resize).toEqual({ width: 600, height: 600 });
    expect(config.crop).toEqual({ width: 448, height: 448 });
    expect(config.interpolation).toBe('bilinear');
    expect(config.mean).toEqual([0.485, 0.456, 0.406]);
    expect(config.std).toEqual([0.229, 0.224, 0.225]);
    expect(config.layout).toBe('NCHW');
    expect(config.softmax).toBe(true);
  });

  it('reads every field', () => {
    const config = resolveModelConfig(
      {
        input: 'pixel_values',
        layout: 'NHWC',
        resize: { shorterSide: 256 },
        crop: { width: 224, height: 224 },
        interpolation: 'bicubic',
        mean: [0.5, 0.5, 0.5],
        std: [0.5, 0.5, 0.5],
        output: 'logits',
        softmax: false,
        background: [0, 0, 0],
        description: 'x',
      },
      'm',
    );
    expect(config).toMatchObject({
      input: 'pixel_values',
      layout: 'NHWC',
      resize: { shorterSide: 256 },
      crop: { width: 224, height: 224 },
      softmax: false,
    });
  });

  it('round-trips through serializeModelConfig', () => {
    const config = resolveModelConfig({ input: 'image', output: 'probabilities', softmax: false }, 'm');
    expect(parseModelConfig(serializeModelConfig(config), 'm')).toEqual(config);
  });

  it.each([
    ['{', /model.json is not valid JSON/],
    ['[]', /"\(root\)" must be a JSON object/],
    ['{"resize": [600, 600]}', /"resize" must be an object \{ "width": …, "height": … \}/],
    ['{"crop": {"width": 700, "height": 448}}', /"crop" must be no larger than the resized image \(600×600\)/],
    ['{"crop": {"width": 0, "height": 448}}', /"crop.width" must be a whole number from 1 to 4096/],
    ['{"mean": [0.5, 0.5]}', /"mean" must be an array of 3 numbers/],
    ['{"std": [0.2, 0, 0.2]}', /"std" must be an array of 3 numbers \(R, G, B\), each greater than 0/],
    ['{"layout": "CHW"}', /"layout" must be "NCHW" or "NHWC"/],
    ['{"interpolation": "area"}', /"interpolation" must be "bilinear", "bicubic", "nearest" or "lanczos"/],
    ['{"softmax": "yes"}', /"softmax" must be true/],
    ['{"inptu": "image"}', /"inptu" must be one of the known fields/],
    ['{"background": [256, 0, 0]}', /"background" must be an array of 3 numbers/],
  ])('refuses %s with a message naming the field', (text, message) => {
    let error: unknown;
    try {
      parseModelConfig(text, 'Model "demo" version 1');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ModelInvalidError);
    expect((error as ModelInvalidError).status).toBe(503);
    expect((error as Error).message).toMatch(/^Model "demo" version 1: /);
    expect((error as Error).message).toMatch(message);
  });
});
