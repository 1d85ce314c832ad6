// AudioWorklet processor (runs on the audio rendering thread, loaded by voice.js with addModule): takes the
// microphone's float samples at the context's rate, resamples them linearly to the target rate (16 kHz, what
// /media/local expects), converts to PCM16 and posts 20 ms frames (ArrayBuffers, transferred) to the main thread.
class Pcm16Capture extends AudioWorkletProcessor {
    constructor(options) {
        super();
        this.target = (options.processorOptions && options.processorOptions.targetRate) || 16000;
        this.step = sampleRate / this.target; // input samples per output sample
        this.pos = 0;                          // fractional read position into the pending input
        this.prev = 0;                         // last input sample of the previous block (for interpolation)
        this.frame = new Int16Array(this.target / 50);
        this.fill = 0;
        this.level = 0;
    }

    process(inputs) {
        const input = inputs[0] && inputs[0][0];
        if (!input) return true;
        let peak = 0;
        // Output sample k sits at input position pos + k*step, where position -1 is this.prev.
        while (this.pos < input.length) {
            const i = Math.floor(this.pos);
            const frac = this.pos - i;
            const a = i === 0 ? this.prev : input[i - 1];
            const b = input[i];
            let v = a + (b - a) * frac;
            if (v > 1) v = 1; else if (v < -1) v = -1;
            if (Math.abs(v) > peak) peak = Math.abs(v);
            this.frame[this.fill++] = v < 0 ? v * 0x8000 : v * 0x7fff;
            if (this.fill === this.frame.length) {
                const out = this.frame.buffer.slice(0);
                this.port.postMessage({ pcm: out, level: Math.max(peak, this.level * 0.8) }, [out]);
                this.level = peak;
                peak = 0;
                this.fill = 0;
            }
            this.pos += this.step;
        }
        this.pos -= input.length;
        this.prev = input[input.length - 1];
        return true;
    }
}

registerProcessor('pcm16-capture', Pcm16Capture);
